/**
 * Deleting a forgotten call's recording at Twilio: the target of the `Recording forgotten` rule
 * on the bus (lib/events/facts.ts publishes one per recording when a call item is removed: its
 * TTL, or an erasure). Idempotent: a recording Twilio no longer has is gone already. A failure
 * Twilio may recover from (unavailable, throttled, a refused credential) throws, so that Lambda
 * retries the event and then sends it to the failure queue (serverless.yml).
 */

import { RECORDING_SID } from '../ledger/calls.js';
import { logger } from '../platform/log.js';
import type { TwilioRecordings } from '../twilio/recordings.js';

/** The event as EventBridge delivers it to the function. */
export interface ForgottenEvent {
  'detail-type'?: string;
  detail?: unknown;
}

export type Forgotten = 'deleted' | 'gone' | 'off' | 'invalid';

export async function handleForgottenRecording(
  event: ForgottenEvent,
  deps: { enabled: boolean; recordings: TwilioRecordings },
): Promise<Forgotten> {
  const detail = event.detail;
  const recordingSid = typeof detail === 'object' && detail !== null && 'recordingSid' in detail ? detail.recordingSid : undefined;
  if (event['detail-type'] !== 'Recording forgotten' || typeof recordingSid !== 'string' || !RECORDING_SID.test(recordingSid)) {
    // Not ours to retry: a retry would be as malformed.
    logger.error('Not a Recording forgotten event; nothing deleted', { detailType: event['detail-type'] });
    return 'invalid';
  }
  // The rule is disabled with DELETE_RECORDINGS=false; an event that still arrives is left alone.
  if (!deps.enabled) {
    logger.info('Recording kept (DELETE_RECORDINGS=false)', { recordingSid });
    return 'off';
  }
  const outcome = await deps.recordings.remove(recordingSid);
  logger.info('Recording deleted at Twilio', { recordingSid, outcome });
  return outcome;
}
