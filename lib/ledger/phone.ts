/**
 * Which caller ids are customers we can call back: E.164 numbers that libphonenumber-js
 * (a maintained port of Google's libphonenumber) accepts as valid, and nothing else.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Numbers Twilio puts in `From` when the caller withheld their id: they spell ANONYMOUS,
 * RESTRICTED, BLOCKED and UNAVAILABLE on a keypad and are not anyone's number.
 */
export const TWILIO_WITHHELD_NUMBERS: ReadonlySet<string> = new Set(['+266696687', '+7378742833', '+2562533', '+86282452253']);

export type CallerId =
  | { kind: 'number'; e164: string }
  /** Withheld, a client or SIP identity, or a string that is not a valid phone number. */
  | { kind: 'anonymous'; reason: 'withheld' | 'client' | 'sip' | 'invalid' };

/** Classifies a caller id; a valid number comes back in E.164. */
export function callerId(raw: string): CallerId {
  const value = raw.trim();
  const lower = value.toLowerCase();
  if (lower.startsWith('client:')) return { kind: 'anonymous', reason: 'client' };
  if (lower.startsWith('sip:')) return { kind: 'anonymous', reason: 'sip' };
  if (['anonymous', 'unknown', 'restricted', 'private', 'unavailable', 'blocked'].includes(lower) || TWILIO_WITHHELD_NUMBERS.has(value)) {
    return { kind: 'anonymous', reason: 'withheld' };
  }
  // Twilio sends PSTN numbers in E.164; without a leading + there is no country to assume.
  const parsed = value.startsWith('+') ? parsePhoneNumberFromString(value) : undefined;
  if (parsed === undefined || !parsed.isValid()) return { kind: 'anonymous', reason: 'invalid' };
  return { kind: 'number', e164: parsed.number };
}
