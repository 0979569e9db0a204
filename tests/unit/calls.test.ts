import { describe, expect, it } from 'vitest';
import {
  classifyDialAction,
  classifyStatusCallback,
  customerNumber,
  InvalidCallbackError,
  missedStatus,
  missedStatuses,
  parseTwilioTimestamp,
} from '../../lib/ledger/calls.js';
import { callSid, dialAction, statusCallback } from '../helpers.js';

describe('missedStatus', () => {
  it.each(['no-answer', 'busy', 'failed'] as const)('counts %s as missed', (status) => {
    expect(missedStatus(status, false)).toBe(status);
  });

  it.each(['queued', 'ringing', 'in-progress', 'completed', 'answered'] as const)('does not count %s', (status) => {
    expect(missedStatus(status, true)).toBeUndefined();
  });

  it('counts canceled only when configured', () => {
    expect(missedStatus('canceled', false)).toBeUndefined();
    expect(missedStatus('canceled', true)).toBe('canceled');
  });
});

describe('classifyStatusCallback', () => {
  it('records an inbound no-answer keyed by its own CallSid, customer = From', () => {
    const params = statusCallback();
    const result = classifyStatusCallback(params, false);
    expect(result).toEqual({
      kind: 'missed',
      call: {
        rootCallSid: params.CallSid,
        legCallSids: [params.CallSid],
        accountSid: params.AccountSid,
        status: 'no-answer',
        direction: 'inbound',
        from: '+14155550123',
        to: '+14155559876',
        customer: '+14155550123',
        line: '+14155559876',
        source: 'status-callback',
        startedAt: undefined,
        reportedAt: '2026-11-24T09:15:42.000Z',
      },
    });
  });

  it('keys a <Dial> child leg by its parent and records both legs, customer unknown', () => {
    const parent = callSid();
    const child = statusCallback({
      ParentCallSid: parent,
      Direction: 'outbound-dial',
      CallStatus: 'busy',
      From: '+14155559876',
      To: '+14155550199',
    });
    const result = classifyStatusCallback(child, false);
    expect(result.kind).toBe('missed');
    if (result.kind !== 'missed') return;
    expect(result.call.rootCallSid).toBe(parent);
    expect(result.call.legCallSids).toEqual([parent, child.CallSid]);
    expect(result.call.customer).toBeUndefined();
    expect(result.call.status).toBe('busy');
  });

  it('takes To as the customer of an outbound-api call', () => {
    const result = classifyStatusCallback(statusCallback({ Direction: 'outbound-api', From: '+14155559876', To: '+442071838750' }), false);
    expect(result.kind === 'missed' && result.call.customer).toBe('+442071838750');
  });

  it('acknowledges a completed call without recording it', () => {
    const params = statusCallback({ CallStatus: 'completed', CallDuration: '42' });
    expect(classifyStatusCallback(params, false)).toEqual({ kind: 'ignored', callSid: params.CallSid, status: 'completed' });
  });

  it.each([
    [{ CallSid: '' }, 'CallSid is required'],
    [{ CallSid: 'CA123' }, 'CallSid is not a valid Twilio SID'],
    [{ CallStatus: '' }, 'CallStatus is required'],
    [{ CallStatus: 'exploded' }, 'CallStatus "exploded" is not a Twilio call status'],
    [{ AccountSid: 'nope' }, 'AccountSid is not a valid Twilio SID'],
    [{ ParentCallSid: 'CA' }, 'ParentCallSid is not a valid Twilio SID'],
  ])('rejects %o', (overrides, message) => {
    expect(() => classifyStatusCallback(statusCallback(overrides), false)).toThrow(new InvalidCallbackError(message));
  });
});

describe('classifyDialAction', () => {
  it('records a dial nobody answered under the parent CallSid with both legs', () => {
    const params = dialAction();
    const result = classifyDialAction(params, false);
    expect(result.kind).toBe('missed');
    if (result.kind !== 'missed') return;
    expect(result.call).toMatchObject({
      rootCallSid: params.CallSid,
      legCallSids: [params.CallSid, params.DialCallSid],
      status: 'no-answer',
      source: 'dial-action',
      customer: '+14155550123',
    });
  });

  it.each(['answered', 'completed'])('acknowledges DialCallStatus=%s', (status) => {
    expect(classifyDialAction(dialAction({ DialCallStatus: status }), false).kind).toBe('ignored');
  });

  it('keys by CallSid, never by DialCallSid', () => {
    const params = dialAction({ DialCallStatus: 'busy' });
    const result = classifyDialAction(params, false);
    expect(result.kind === 'missed' && result.call.rootCallSid).toBe(params.CallSid);
  });

  it('needs DialCallStatus', () => {
    expect(() => classifyDialAction(dialAction({ DialCallStatus: '' }), false)).toThrow('DialCallStatus is required');
  });
});

describe('helpers', () => {
  it('knows the customer by direction, and none for a child leg', () => {
    expect(customerNumber({ direction: 'inbound', from: '+1', to: '+2' })).toBe('+1');
    expect(customerNumber({ direction: 'outbound-api', from: '+1', to: '+2' })).toBe('+2');
    expect(customerNumber({ direction: 'outbound-dial', from: '+1', to: '+2' })).toBeUndefined();
  });

  it('lists canceled among the missed statuses only when configured', () => {
    expect(missedStatuses(false)).toEqual(['no-answer', 'busy', 'failed']);
    expect(missedStatuses(true)).toEqual(['no-answer', 'busy', 'failed', 'canceled']);
  });

  it('parses RFC 2822 timestamps and ignores garbage', () => {
    expect(parseTwilioTimestamp('Tue, 24 Nov 2026 09:15:42 +0100')).toBe('2026-11-24T08:15:42.000Z');
    expect(parseTwilioTimestamp('not a date')).toBeUndefined();
    expect(parseTwilioTimestamp(undefined)).toBeUndefined();
  });
});
