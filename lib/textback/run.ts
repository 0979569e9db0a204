/**
 * The text-back function: for each `Callback opened` event on the bus (its rule, see
 * serverless.yml), one decision (lib/textback/model.ts) settled on the number's text-back item.
 * A send is claimed before Twilio is asked and its answer recorded after; Twilio errors are
 * recorded, not retried by Lambda (the bounded retries are inside the send). Only a table that
 * cannot be read or written fails the invocation, and Lambda's retry finds the claim: it never
 * texts twice.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { maskPhone, twilioE164 } from '../phone/phone.js';
import { logger } from '../platform/log.js';
import type { SendOutcome, TwilioMessages } from '../twilio/messages.js';
import type { TextBackEpisode, TextBackRecord } from './item.js';
import { type Decision, decide, type Opening } from './model.js';
import type { TextBackSettings } from './settings.js';
import type { TextBackStore } from './store.js';

export interface TextBackDeps {
  settings: TextBackSettings;
  store: TextBackStore;
  /**
   * The opening call as recorded: its direction (`inbound`, `outbound-api`…; undefined when its
   * item is gone) and whether later evidence showed it answered (it is not texted then).
   */
  call(callSid: string): Promise<{ direction: string | undefined; answered: boolean }>;
  messages(): Promise<TwilioMessages>;
  now?: () => Date;
  /** Counts a metric (CloudWatch EMF in AWS). */
  count?: (name: 'TextBackSent' | 'TextBackFailed' | 'TextBackLostAfterClaim' | 'TextBackAuthError', n?: number) => void;
}

export type Settled = Decision['kind'] | 'sent' | 'failed' | 'unknown' | 'contended';

/** The event the rule delivers: lib/events/facts.ts's `Callback opened`. */
export type OpenedEvent = EventBridgeEvent<string, Record<string, unknown>>;

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

/**
 * The opening a `Callback opened` event tells, or undefined (with the reason) when it is not one
 * this function can act on: another event, or one without the fields it needs (published by a
 * version before `callSid` was added, or by someone else on the bus).
 */
export function openingOfEvent(event: OpenedEvent): { opening: Opening } | { invalid: string } {
  if (event.source !== 'missed-call-ledger' || event['detail-type'] !== 'Callback opened')
    return { invalid: 'not a Callback opened event' };
  const d = event.detail ?? {};
  const phone = typeof d.phone === 'string' ? twilioE164(d.phone) : undefined;
  if (phone === undefined || phone !== d.phone) return { invalid: 'detail.phone is not an E.164 number' };
  if (typeof d.openSince !== 'string' || !ISO.test(d.openSince)) return { invalid: 'detail.openSince is not an ISO 8601 time' };
  if (typeof d.callSid !== 'string' || !CALL_SID.test(d.callSid)) return { invalid: 'detail.callSid is not a CallSid' };
  return { opening: { phone, openSince: d.openSince, line: typeof d.line === 'string' ? d.line : '', callSid: d.callSid } };
}

/** The number's marks after Twilio's answer. */
function afterSend(record: Omit<TextBackRecord, 'version'>, outcome: SendOutcome, now: string): Omit<TextBackRecord, 'version'> {
  if (outcome.kind === 'sent') return { ...record, lastSentAt: now };
  if (outcome.kind !== 'failed') return record;
  if (outcome.reason === 'opted-out') return { ...record, optedOutAt: now };
  if (outcome.reason === 'not-mobile' || outcome.reason === 'invalid-number')
    return { ...record, notTextable: { reason: outcome.reason, at: now } };
  return record;
}

function resultEpisode(claim: TextBackEpisode, outcome: SendOutcome, now: string): TextBackEpisode {
  if (outcome.kind === 'sent') return { ...claim, state: 'sent', messageSid: outcome.messageSid, sentAt: now };
  if (outcome.kind === 'failed')
    return {
      ...claim,
      state: 'failed',
      reason: outcome.reason,
      ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
    };
  return { ...claim, state: 'unknown', reason: 'crashed-after-claim' };
}

/** Decides and settles one opening; re-reads after a conflicting write (at most 3 rounds). */
export async function settleOpening(opening: Opening, deps: TextBackDeps): Promise<Settled> {
  const now = deps.now?.() ?? new Date();
  const at = now.toISOString();
  const { direction, answered } = await deps.call(opening.callSid);
  const log = { customer: maskPhone(opening.phone), openSince: opening.openSince, callSid: opening.callSid };
  for (let round = 0; round < 3; round++) {
    const record = await deps.store.read(opening.phone);
    const base: Omit<TextBackRecord, 'version'> = { ...record, phone: opening.phone };
    const decision = decide({ opening, direction, answered, record, settings: deps.settings, now });
    if (decision.kind === 'duplicate') return 'duplicate';
    if (decision.kind === 'crashed') {
      const episode = record?.episode;
      if (episode === undefined) return 'duplicate';
      if (!(await deps.store.write(record, { ...base, episode: { ...episode, state: 'unknown', reason: 'crashed-after-claim' } }, at)))
        continue;
      // At most once: the text may have gone before the sender stopped; it is not sent again.
      logger.error('Text-back claimed but its result was never recorded; not sent again', log);
      deps.count?.('TextBackLostAfterClaim');
      return 'unknown';
    }
    if (decision.kind === 'skip') {
      if (
        !(await deps.store.write(
          record,
          { ...base, episode: { openSince: opening.openSince, state: 'skipped', reason: decision.reason } },
          at,
        ))
      )
        continue;
      logger.info('Text-back skipped', { ...log, reason: decision.reason });
      return 'skip';
    }
    const claim: TextBackEpisode = { openSince: opening.openSince, state: 'claimed', claimedAt: at };
    if (!(await deps.store.write(record, { ...base, episode: claim }, at))) continue;
    const claimed: TextBackRecord = { ...base, episode: claim, version: (record?.version ?? 0) + 1 };
    const outcome = await (await deps.messages()).send(decision);
    const settledAt = (deps.now?.() ?? new Date()).toISOString();
    const written = await deps.store.write(
      claimed,
      { ...afterSend(base, outcome, settledAt), episode: resultEpisode(claim, outcome, settledAt) },
      settledAt,
    );
    if (!written) logger.error('Text-back result not recorded: the item changed after the claim', log);
    if (outcome.kind === 'sent') {
      deps.count?.('TextBackSent');
      logger.info('Text-back sent', { ...log, messageSid: outcome.messageSid, afterHours: decision.afterHours });
      return 'sent';
    }
    if (outcome.kind === 'failed') {
      deps.count?.('TextBackFailed');
      if (outcome.reason === 'auth') {
        deps.count?.('TextBackAuthError');
        logger.error('Twilio refused the text-back credentials (401): check TWILIO_ACCOUNT_SID and the REST secret', log);
      } else logger.warn('Text-back not sent', { ...log, reason: outcome.reason, errorCode: outcome.errorCode });
      return 'failed';
    }
    deps.count?.('TextBackLostAfterClaim');
    logger.error('Text-back outcome unknown (no answer from Twilio); not sent again', { ...log, detail: outcome.detail });
    return 'unknown';
  }
  logger.warn('Text-back item kept changing; left to the next look', log);
  return 'contended';
}

/**
 * Handles one event: settles its opening, or logs why it has none (not retried: a retry would
 * not change it). Throws only when the table fails; Lambda then retries the event.
 */
export async function handleOpenedEvent(event: OpenedEvent, deps: TextBackDeps): Promise<Settled | 'invalid'> {
  const read = openingOfEvent(event);
  if ('invalid' in read) {
    logger.warn('Text-back event ignored', { reason: read.invalid, eventId: event.id, detailType: event['detail-type'] });
    return 'invalid';
  }
  return settleOpening(read.opening, deps);
}
