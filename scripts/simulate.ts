/**
 * `npm run simulate -- --calls 1000 --drop 5% --duplicates 10% --seed 42 --target http://127.0.0.1:3000`
 * Plays a day of Twilio call flows against a running stack (local or deployed) and prints
 * the ground truth. With --twilio-api (the local Twilio-shaped API), Twilio's side of every
 * call is registered there too, so that POST /reconcile can find the dropped ones.
 */

import { parseCli, progress, registerCalls, share, whole } from '../dev/cli.js';
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { callbackTruth, planDay, sendDay } from '../dev/simulator.js';

const args = parseCli();
const target = args.target ?? 'http://127.0.0.1:3000';
const now = Date.now();
const plan = planDay({
  calls: whole(args.calls, 'calls', 1000),
  seed: whole(args.seed, 'seed', 42, 2 ** 32),
  accountSid: args['account-sid'] ?? process.env.TWILIO_ACCOUNT_SID ?? LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
  // Older than the reconciliation's 5-minute settle time, within its 1-hour overlap.
  from: new Date(now - 50 * 60_000),
  to: new Date(now - 10 * 60_000),
});
if (args['twilio-api'])
  await registerCalls(
    args['twilio-api'],
    plan.calls.flatMap((c) => c.legs),
  );
const sent = await sendDay(plan, {
  target,
  authToken: args.token ?? process.env.TWILIO_AUTH_TOKEN ?? LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
  drop: share(args.drop, 'drop', 0.05),
  duplicates: share(args.duplicates, 'duplicates', 0.1),
  concurrency: whole(args.concurrency, 'concurrency', 8, 256),
  seed: whole(args.seed, 'seed', 42, 2 ** 32),
  onProgress: progress('calls'),
});
console.log(
  JSON.stringify(
    {
      target,
      calls: plan.calls.length,
      callbacks: sent.callbacks,
      sent: sent.sent,
      dropped: sent.dropped,
      duplicated: sent.duplicated,
      httpStatuses: sent.statuses,
      truth: {
        missed: plan.truth.missed,
        byStatus: plan.truth.byStatus,
        bySource: sent.expectedBySource,
        anonymous: plan.truth.anonymous,
        contacts: plan.truth.contacts.size,
        // Once every miss is applied (the stream) and, for lost webhooks, reconciled.
        callbacks: (({ opened, resolved, openNow }) => ({ opened, resolved, openNow }))(
          callbackTruth(plan, sent.sourceOf, new Set([...sent.unrecoverable, ...sent.lostBridges])),
        ),
      },
    },
    null,
    2,
  ),
);
if (sent.failed > 0) process.exitCode = 1;
