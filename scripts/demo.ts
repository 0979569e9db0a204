/**
 * `npm run demo`: the whole system on a day of simulated Twilio traffic. Starts the local
 * stack (or uses a running one with --target, --key and --twilio-api), plays the day with some
 * webhooks lost, runs the reconciliation, then prints the ground truth beside what GET /stats
 * and GET /contacts report (dev/demo.ts). Exit status 0 only if they agree exactly; leaves
 * nothing running. `--text-back` runs the stack with TEXT_BACK=on and compares the texts too.
 * `--screenshot FILE` then saves the dashboard as Chromium shows it (the
 * README's docs/dashboard.png is made so).
 */
import { launchChromium, openDashboard } from '../dev/browser.js';
import { parseCli, progress, share, whole } from '../dev/cli.js';
import { LOCAL_DEFAULTS } from '../dev/defaults.js';
import { runDemo } from '../dev/demo.js';
import { startLocalStack } from '../dev/stack.js';

const args = parseCli();
const options = {
  calls: whole(args.calls, 'calls', 300),
  seed: whole(args.seed, 'seed', 42, 2 ** 32),
  accountSid: args['account-sid'] ?? LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
  authToken: args.token ?? LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
  drop: share(args.drop, 'drop', 0.05),
  duplicates: share(args.duplicates, 'duplicates', 0.1),
  concurrency: whole(args.concurrency, 'concurrency', 8, 256),
  textBack: args['text-back'] === true,
  onProgress: progress('calls'),
};
const stack = args.target
  ? {
      target: args.target.replace(/\/+$/, ''),
      key: args.key ?? process.env.OPERATOR_API_KEY ?? '',
      twilioApi: args['twilio-api'] ?? '',
      stop: async () => null,
    }
  : // --text-back: texts on; the day is replayed 10 to 50 minutes late, so older misses are texted too.
    await startLocalStack(options.textBack ? { TEXT_BACK: 'on', TEXT_BACK_MAX_AGE_MINUTES: '120' } : {});

let agree = false;
try {
  agree = await runDemo(stack, options, (line) => console.log(line));
  if (args.screenshot) {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
      // The first admin of a stack started here; a stack named by flags: its operator key.
      await openDashboard(page, `${stack.target}/`, 'cognito' in stack ? stack.cognito.admin : { key: stack.key });
      await page.screenshot({ path: args.screenshot });
      console.log(`dashboard screenshot: ${args.screenshot}`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await stack.stop();
}
process.exitCode = agree ? 0 : 1;
