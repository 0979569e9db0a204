/** Caller ids and phone numbers: who is a callable customer, how an operator's number is read, how numbers are logged. */
import { describe, expect, it } from 'vitest';
import { callerId, maskPhone, operatorPhone } from '../../lib/phone/phone.js';

describe('callerId', () => {
  it.each([
    ['+14155550123', '+14155550123'],
    ['+442071838750', '+442071838750'],
    [' +4915123456789 ', '+4915123456789'],
  ])('keeps the valid number %s as %s', (raw, e164) => {
    expect(callerId(raw)).toEqual({ kind: 'number', e164 });
  });

  it.each([
    ['anonymous', 'withheld'],
    ['Anonymous', 'withheld'],
    ['unknown', 'withheld'],
    ['restricted', 'withheld'],
    ['+266696687', 'withheld'],
    ['+7378742833', 'withheld'],
    ['client:alice', 'client'],
    ['sip:alice@example.sip.twilio.com', 'sip'],
    ['4155550123', 'invalid'],
    ['+1', 'invalid'],
    ['+999123', 'invalid'],
    ['hello', 'invalid'],
    ['', 'invalid'],
  ])('makes no contact of %s (%s)', (raw, reason) => {
    expect(callerId(raw)).toEqual({ kind: 'anonymous', reason });
  });
});

describe('operatorPhone', () => {
  it.each([
    ['+1 415 555 0123', 'US', '+14155550123'],
    ['(415) 555-0123', 'US', '+14155550123'],
    ['020 7183 8750', 'GB', '+442071838750'],
    ['+44 20 7183 8750', 'US', '+442071838750'],
  ] as const)('reads %s (default %s) as %s', (raw, country, e164) => {
    expect(operatorPhone(raw, country)).toBe(e164);
  });

  it.each(['not-a-number', '415', 'call +14155550123 now', '+1 415 555 0123 ext 5', ''])('reads no number in %j', (raw) => {
    expect(operatorPhone(raw, 'US')).toBeUndefined();
  });
});

describe('maskPhone', () => {
  it.each([
    ['+14155550123', '+*******0123'],
    ['4155550123', '******0123'],
    ['123', '***'],
    ['client:alice', 'client:***'],
    ['sip:alice@example.com', 'sip:***'],
    ['anonymous', 'anonymous'],
    [undefined, undefined],
  ])('masks %s as %s', (input, expected) => {
    expect(maskPhone(input)).toBe(expected);
  });
});
