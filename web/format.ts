/** How the page writes numbers, durations, times and days for people. */
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** The country the stack was configured with (DEFAULT_COUNTRY), from the page's meta tag. */
export function defaultCountry(doc: Document = document): string {
  return doc.querySelector('meta[name="mcl-default-country"]')?.getAttribute('content') ?? 'US';
}

/** National format for the default country's numbers, international for the rest; as given otherwise. */
export function formatPhone(e164: string, country: string): string {
  const parsed = e164.startsWith('+') ? parsePhoneNumberFromString(e164) : undefined;
  if (parsed === undefined || !parsed.isPossible()) return e164;
  return parsed.country === (country as CountryCode) ? parsed.formatNational() : parsed.formatInternational();
}

/** A duration in seconds as people say it: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const dateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
const localDay = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });

/** An instant in the browser's time zone: its time alone when it is today there. */
export function formatTime(iso: string, now: Date = new Date()): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return localDay.format(ms) === localDay.format(now) ? timeOnly.format(ms) : dateTime.format(ms);
}

/** The browser's time zone, to label the times with. */
export const timeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'local time';

const DAY_MS = 86_400_000;

/** The UTC days of the last `count` days to `today` (the ledger's day counters are UTC days). */
export function lastDays(count: number, today: Date): { from: string; to: string } {
  const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const from = new Date(to.getTime() - (count - 1) * DAY_MS);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

/** "Dec 2" for a YYYY-MM-DD day (a UTC day, written as such). */
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
export const formatDay = (day: string): string => dayFormat.format(Date.parse(`${day}T00:00:00Z`));

export const percent = (part: number, whole: number): string => (whole === 0 ? '–' : `${Math.round((part / whole) * 100)} %`);

/**
 * A number as someone typed it (`(415) 555-0123` for the default country, `+44 20…`), in E.164
 * when it reads as one; as typed otherwise, for the API to refuse in its own words.
 */
export function toE164(raw: string, country: string): string {
  const value = raw.trim();
  const parsed = parsePhoneNumberFromString(value, { defaultCountry: country as CountryCode });
  return parsed?.isPossible() ? parsed.number : value;
}
