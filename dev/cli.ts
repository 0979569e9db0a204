/** Small helpers shared by the simulator and demo commands. */
import { parseArgs } from 'node:util';
import type { LocalCall } from './twilio-api.js';

/** `5%` or `0.05` as a share from 0 to 1. */
export function share(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--${name} must be a share such as 5% or 0.05, got "${value}"`);
  return n;
}

export function whole(value: string | undefined, name: string, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`--${name} must be a whole number up to ${max}, got "${value}"`);
  return n;
}

export const simulatorArgs = {
  calls: { type: 'string' },
  drop: { type: 'string' },
  duplicates: { type: 'string' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  target: { type: 'string' },
  'twilio-api': { type: 'string' },
  token: { type: 'string' },
  'account-sid': { type: 'string' },
  key: { type: 'string' },
  screenshot: { type: 'string' },
  'text-back': { type: 'boolean' },
} as const;

export const parseCli = () => parseArgs({ options: simulatorArgs, allowPositionals: false }).values;

/** Registers Twilio's side of the calls in the local Twilio-shaped API. */
export async function registerCalls(twilioApi: string, legs: readonly LocalCall[]): Promise<void> {
  for (let i = 0; i < legs.length; i += 500) {
    const body = legs.slice(i, i + 500).map((c) => ({ ...c, startTime: c.startTime.toISOString() }));
    const response = await fetch(`${twilioApi.replace(/\/+$/, '')}/__local/calls`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`The local Twilio API refused the calls: ${response.status} ${await response.text()}`);
  }
}

/** A one-line progress bar on stderr (plain lines when not a terminal). */
export function progress(label: string): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = Math.floor((done / total) * 100);
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
    } else if (pct >= last + 25 || done === total) {
      last = pct;
      process.stderr.write(`${label} ${done}/${total}\n`);
    }
  };
}
