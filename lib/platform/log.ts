/**
 * Structured JSON logging (Powertools Logger) and the masking every log line goes through.
 * Phone numbers keep their last 4 digits; tokens and signatures are never passed to the logger.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'missed-call-ledger' });

/**
 * A phone number (or any caller id) safe to log: digits but the last 4 become `*`.
 * Non-numbers such as `client:alice` keep only their scheme.
 */
export function maskPhone(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return value;
  const scheme = /^(client|sip):/i.exec(value);
  if (scheme) return `${scheme[1]?.toLowerCase()}:***`;
  const digits = value.replace(/\D/g, '');
  if (digits.length === 0) return value.length <= 16 ? value : `${value.slice(0, 16)}…`;
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}
