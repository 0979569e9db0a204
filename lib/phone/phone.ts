/**
 * Caller ids and phone numbers, every rule in one place: which caller ids are customers we can
 * call back (E.164 numbers that libphonenumber-js, a maintained port of Google's libphonenumber,
 * accepts as valid), how an operator's number is read, and how a number is masked in logs.
 */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Numbers Twilio puts in `From` when the caller withheld their id: they spell ANONYMOUS,
 * RESTRICTED, BLOCKED and UNAVAILABLE on a keypad and are not anyone's number.
 */
export const TWILIO_WITHHELD_NUMBERS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  '+266696687',
  '+7378742833',
  '+2562533',
  '+86282452253',
]);

const WITHHELD_WORDS = ['anonymous', 'unknown', 'restricted', 'private', 'unavailable', 'blocked'];

/** `client` or `sip` for a Twilio Client or SIP identity (not a phone number), else undefined. */
export function identityScheme(value: string): 'client' | 'sip' | undefined {
  const lower = value.trim().toLowerCase();
  if (lower.startsWith('client:')) return 'client';
  if (lower.startsWith('sip:')) return 'sip';
  return undefined;
}

export type CallerId =
  | { kind: 'number'; e164: string }
  /** Withheld, a client or SIP identity, or a string that is not a valid phone number. */
  | { kind: 'anonymous'; reason: 'withheld' | 'client' | 'sip' | 'invalid' };

/** Classifies a caller id; a valid number comes back in E.164. */
export function callerId(raw: string): CallerId {
  const value = raw.trim();
  const scheme = identityScheme(value);
  if (scheme !== undefined) return { kind: 'anonymous', reason: scheme };
  if (WITHHELD_WORDS.includes(value.toLowerCase()) || TWILIO_WITHHELD_NUMBERS.has(value)) {
    return { kind: 'anonymous', reason: 'withheld' };
  }
  // Twilio sends PSTN numbers in E.164; without a leading + there is no country to assume.
  const parsed = value.startsWith('+') ? parsePhoneNumberFromString(value) : undefined;
  if (parsed === undefined || !parsed.isValid()) return { kind: 'anonymous', reason: 'invalid' };
  return { kind: 'number', e164: parsed.number };
}

/**
 * A number exactly as Twilio writes a PSTN party, E.164 (`+` and 7 to 15 digits), or undefined.
 * No libphonenumber: the webhook's bundle stays small; a number it accepts here that the contacts
 * function would not (an unassigned range) simply has no contact to find.
 */
export function twilioE164(raw: string): string | undefined {
  const value = raw.trim();
  if (!/^\+[1-9]\d{6,14}$/.test(value) || TWILIO_WITHHELD_NUMBERS.has(value)) return undefined;
  return value;
}

/**
 * A number as an operator writes it (`+1 415…`, `(415) 555-…`, national for `defaultCountry`)
 * in E.164; undefined when it is none.
 */
export function operatorPhone(raw: string, defaultCountry: CountryCode): string | undefined {
  const value = raw.trim();
  // Only what a written number holds: libphonenumber would also find one inside other text.
  if (!/^[+\d\s().-]{3,32}$/.test(value)) return undefined;
  const parsed = parsePhoneNumberFromString(value, { defaultCountry });
  return parsed?.isValid() ? parsed.number : undefined;
}

/**
 * A phone number (or any caller id) safe to log: digits but the last 4 become `*`.
 * Client and SIP identities keep only their scheme.
 */
export function maskPhone(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value;
  const scheme = identityScheme(value);
  if (scheme !== undefined) return `${scheme}:***`;
  const digits = value.replace(/\D/g, '');
  if (digits.length === 0) return value.length <= 16 ? value : `${value.slice(0, 16)}…`;
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
