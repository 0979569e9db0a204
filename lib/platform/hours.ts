/**
 * Business hours such as `Mon-Fri 09:00-17:00, Sat 10:00-14:00` in an IANA time zone: parsed
 * strictly (a typo fails at package time and at cold start, never falls back to a default) and
 * read with Intl, so daylight-saving changes are the zone's own.
 */

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Open on `days` from `from` to `to` (minutes after local midnight; `to` exclusive). */
export interface HoursRule {
  days: ReadonlySet<Weekday>;
  from: number;
  to: number;
}

export class BusinessHoursError extends Error {
  override name = 'BusinessHoursError';
}

function minutes(text: string, whole: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) ?? (text === '24:00' ? ['24:00', '24', '00'] : null);
  if (match === null) throw new BusinessHoursError(`BUSINESS_HOURS: "${text}" is not a time as HH:MM in "${whole}"`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function dayRange(text: string, whole: string): Weekday[] {
  const [first, last = first, extra] = text.split('-');
  const index = (day: string | undefined) => {
    const i = WEEKDAYS.findIndex((d) => d.toLowerCase() === day?.toLowerCase());
    if (i < 0) throw new BusinessHoursError(`BUSINESS_HOURS: "${day ?? ''}" is not a day (Mon, Tue, … Sun) in "${whole}"`);
    return i;
  };
  if (extra !== undefined) throw new BusinessHoursError(`BUSINESS_HOURS: "${text}" is not a day or a range of days in "${whole}"`);
  const [a, b] = [index(first), index(last)];
  if (b < a) throw new BusinessHoursError(`BUSINESS_HOURS: "${text}" runs backwards (write Mon-Fri, not Fri-Mon) in "${whole}"`);
  return WEEKDAYS.slice(a, b + 1);
}

/**
 * Parses `<days> <HH:MM>-<HH:MM>` rules separated by commas; days are `Mon`, `Mon-Fri` or
 * `Sat+Sun`. An empty value means always open.
 * @throws BusinessHoursError naming what is wrong.
 */
export function parseBusinessHours(value: string): HoursRule[] {
  const whole = value.trim();
  if (whole === '') return [];
  return whole.split(',').map((part) => {
    const match = /^\s*(\S+)\s+(\S+)-(\S+)\s*$/.exec(part);
    if (match === null) throw new BusinessHoursError(`BUSINESS_HOURS: "${part.trim()}" is not "<days> HH:MM-HH:MM" in "${whole}"`);
    const [, daysText = '', fromText = '', toText = ''] = match;
    const days = new Set(daysText.split('+').flatMap((d) => dayRange(d, whole)));
    const from = minutes(fromText, whole);
    const to = minutes(toText, whole);
    if (to <= from) throw new BusinessHoursError(`BUSINESS_HOURS: "${part.trim()}" closes before it opens in "${whole}"`);
    return { days, from, to };
  });
}

/** @throws BusinessHoursError unless `zone` is an IANA time zone this runtime knows. */
export function checkTimeZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new BusinessHoursError(`TIME_ZONE: "${zone}" is not an IANA time zone (for example America/New_York)`);
  }
}

/** The weekday and minute of the day of an instant in `zone`. */
export function localTime(at: Date, zone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS.find((d) => d === part('weekday'));
  if (day === undefined) throw new Error(`unexpected weekday ${part('weekday')}`);
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/** Whether `at` falls within the hours (always, without rules). */
export function isOpen(rules: readonly HoursRule[], zone: string, at: Date): boolean {
  if (rules.length === 0) return true;
  const { day, minute } = localTime(at, zone);
  return rules.some((rule) => rule.days.has(day) && minute >= rule.from && minute < rule.to);
}
