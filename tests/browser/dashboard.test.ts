/**
 * The operator dashboard in a real browser (Debian's chromium, driven by playwright-core) against
 * `npm start`'s stack: the page and its assets through serverless-offline's API Gateway, the data
 * through the operator API from DynamoDB Local, seeded by signed Twilio webhooks.
 * Each page's console errors, failed requests and uncaught exceptions are collected; the ones a
 * test provokes on purpose (the refused key, the injected outage) are the only ones allowed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDashboard } from '../../dev/browser.js';
import { LOCAL_DEFAULTS } from '../../dev/defaults.js';
import { postLikeTwilio } from '../../dev/sign.js';
import { type LocalStack, startLocalStack } from '../../dev/stack.js';
import { statusCallback } from '../helpers.js';

const ARTIFACTS = join(import.meta.dirname, '../../.artifacts');
const HOUR = 3_600_000;

/** The seeded callers: their misses (hours ago, status), oldest waiting first. */
const CALLERS = [
  { phone: '+14155557201', shown: '(415) 555-7201', misses: [[26, 'no-answer']] },
  {
    phone: '+14155557202',
    shown: '(415) 555-7202',
    misses: [
      [5, 'busy'],
      [4, 'no-answer'],
    ],
  },
  { phone: '+14155557203', shown: '(415) 555-7203', misses: [[3, 'failed']] },
  { phone: '+442071838750', shown: '+44 20 7183 8750', misses: [[2, 'no-answer']] },
  { phone: '+14155557205', shown: '(415) 555-7205', misses: [[0.5, 'no-answer']] },
] as const;

let stack: LocalStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];
const seededAt = Date.now();

/** Every console error, uncaught exception and failed request of `p`, into `into`. */
function watch(p: Page, into: string[]): Page {
  p.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') into.push(`console ${message.type()}: ${message.text()}`);
  });
  p.on('pageerror', (error) => into.push(`pageerror: ${error.message}`));
  p.on('requestfailed', (request) => into.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`));
  p.on('response', (response) => {
    if (response.status() >= 400) into.push(`HTTP ${response.status()} ${new URL(response.url()).pathname}`);
  });
  return p;
}

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${stack.target}/${path}`, { headers: { 'x-api-key': stack.key } });
  if (response.status !== 200) throw new Error(`GET /${path}: ${response.status}`);
  return (await response.json()) as T;
}

type OpenItem = { phone: string; openSince: string };
type Stats = { openNow: number; days: { day: string; totals: { total: number }; callbacks: { resolved: Record<string, number> } }[] };

beforeAll(async () => {
  [stack, browser] = await Promise.all([startLocalStack(), launchChromium()]);
  for (const caller of CALLERS) {
    for (const [hoursAgo, status] of caller.misses) {
      const params = statusCallback({
        AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
        From: caller.phone,
        Caller: caller.phone,
        CallStatus: status,
        Timestamp: new Date(seededAt - hoursAgo * HOUR).toUTCString(),
      });
      const url = `${stack.target}/twilio/call-status`;
      const response = await postLikeTwilio(url, params, LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN);
      if (response.status !== 204) throw new Error(`seeding webhook answered ${response.status}`);
    }
  }
  // The stream opens the callbacks: wait until every caller is on the worklist with all its calls.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const open = await api<{ items: (OpenItem & { openMissedCount: number })[] }>('callbacks?limit=100');
    if (CALLERS.every((c) => open.items.some((i) => i.phone === c.phone && i.openMissedCount === c.misses.length))) break;
    if (Date.now() > deadline) throw new Error('the seeded callbacks never opened');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = watch(await context.newPage(), problems);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the dashboard in chromium', () => {
  it('is printed by npm start and served without a key, its assets with it, from the same origin', async () => {
    expect(stack.dashboard).toBe(`${stack.target}/`);
    expect(stack.output()).toContain(`Dashboard        ${stack.target}/`);
    const html = await fetch(stack.dashboard);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const body = await html.text();
    const assets = [...body.matchAll(/(?:src|href)="(dashboard\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const response = await fetch(`${stack.target}/${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
    }
    expect((await fetch(`${stack.target}/dashboard/app-NOPE.js`)).status).toBe(404);
    // The data is not: the operator API still wants its key.
    expect((await fetch(`${stack.target}/callbacks`)).status).toBe(403);
  });

  it('asks for the key once, then lists the open callbacks oldest waiting first, numbers formatted for people', async () => {
    await openDashboard(page, stack.dashboard, stack.key);
    expect(await page.evaluate(() => sessionStorage.getItem('mcl.operatorKey'))).toBe(stack.key);
    const items = page.locator('.work-item');
    const shown = await items.evaluateAll((els) => els.map((el) => el.getAttribute('data-phone')));
    const open = await api<{ items: OpenItem[] }>('callbacks?limit=100');
    expect(shown).toEqual(open.items.map((i) => i.phone));
    expect(shown).toEqual(CALLERS.map((c) => c.phone));
    for (const caller of CALLERS) {
      const item = page.locator(`.work-item[data-phone="${caller.phone}"]`);
      expect(await item.locator('.phone').textContent()).toBe(caller.shown);
      expect(await item.locator('.count').getAttribute('data-count')).toBe(String(caller.misses.length));
      expect(await item.locator('a.call').getAttribute('href')).toBe(`tel:${caller.phone}`);
    }
    // Waiting since the first miss: 5 h for the caller who tried twice (4 and 5 hours ago).
    expect(await page.locator('.work-item[data-phone="+14155557202"] .waited').textContent()).toMatch(/waiting 5 h( [0-9] min)?$/);
    expect(await page.locator('.zone').textContent()).toMatch(/^Times in .+/);
  });

  it('marks a callback done with a note: it leaves the list and shows as resolved with its time to callback', async () => {
    const phone = '+14155557203';
    const item = page.locator(`.work-item[data-phone="${phone}"]`);
    await item.getByRole('button', { name: 'Mark called back' }).click();
    await item.getByLabel('Note (optional)').fill('Called back, wants a quote');
    await item.getByRole('button', { name: 'Save as called back' }).click();
    await item.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('.sr-status').textContent()).toMatch(/^\(415\) 555-7203: Marked as called back after 3 h/);

    const done = page.locator(`.resolved li[data-phone="${phone}"]`);
    await done.waitFor();
    const resolved = await api<{ items: { phone: string; secondsToCallback: number; note?: string }[] }>('callbacks?state=resolved');
    const mine = resolved.items.find((r) => r.phone === phone);
    expect(mine?.note).toBe('Called back, wants a quote');
    expect(await done.locator('.after').getAttribute('data-seconds')).toBe(String(mine?.secondsToCallback));
    // The miss was 3 hours before seeding; the mark came within the minute or two since.
    expect(mine?.secondsToCallback).toBeGreaterThanOrEqual(3 * 3600);
    expect(mine?.secondsToCallback).toBeLessThan(3 * 3600 + 300);
    expect(await done.locator('.note').textContent()).toBe('Called back, wants a quote');
    const open = await api<{ items: OpenItem[] }>('callbacks?limit=100');
    expect(open.items.map((i) => i.phone)).not.toContain(phone);
    expect(await page.locator('.work-item').count()).toBe(CALLERS.length - 1);
  });

  it('redraws the charts for each range with the day totals the API reports', async () => {
    for (const [label, days] of [
      ['Today', 1],
      ['30 days', 30],
      ['7 days', 7],
    ] as const) {
      await page.getByRole('button', { name: label, exact: true }).click();
      const section = page.locator(`.numbers[data-days="${days}"][aria-busy="false"]`);
      await section.waitFor();
      const missed = section.locator('[data-chart="Missed calls per day"] .bar');
      const resolved = section.locator('[data-chart="Callbacks resolved per day"] .bar');
      const drawn = await missed.evaluateAll((els) =>
        els.map((el) => ({
          day: el.getAttribute('data-day'),
          total: Number(el.getAttribute('data-total')),
          height: [...el.querySelectorAll('rect')].reduce((sum, r) => sum + Number(r.getAttribute('height')), 0),
        })),
      );
      const to = new Date().toISOString().slice(0, 10);
      const from = new Date(Date.parse(to) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
      const stats = await api<Stats>(`stats?from=${from}&to=${to}`);
      expect(drawn.map(({ day, total }) => ({ day, total }))).toEqual(stats.days.map((d) => ({ day: d.day, total: d.totals.total })));
      // Bars are as tall as their totals: one height per miss across the chart, no bar on an empty day.
      const unit = Math.max(...drawn.map((d) => (d.total === 0 ? 0 : d.height / d.total)));
      for (const d of drawn) expect(d.height).toBeCloseTo(d.total * unit, 3);
      const resolvedTotals = await resolved.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-total'))));
      expect(resolvedTotals).toEqual(stats.days.map((d) => d.callbacks.resolved.total));
      expect(await section.locator('[data-tile="Open now"] .value').textContent()).toBe(String(stats.openNow));
    }
    expect(problems).toEqual([]);
  });

  it("opens a contact's page with its missed calls and resolutions, and comes back", async () => {
    await page.locator('.resolved li[data-phone="+14155557203"] a.phone').click();
    await page.locator('main.contact[aria-busy="false"]').waitFor();
    expect(page.url()).toMatch(/#\/contact\/%2B14155557203$/);
    expect(await page.locator('main.contact tbody tr').count()).toBe(1);
    expect(await page.locator('main.contact tbody tr td').nth(1).textContent()).toBe('Failed');
    expect(await page.locator('main.contact ul.done .note').textContent()).toBe('Called back, wants a quote');
    expect(await page.getByText('No open callback.').count()).toBe(1);

    await page.goto(`${stack.dashboard}#/contact/%2B14155557202`);
    await page.locator('main.contact[aria-busy="false"]').waitFor();
    expect(await page.locator('main.contact tbody tr').count()).toBe(2);
    expect(await page.locator('main.contact .open-callback').textContent()).toContain('(2 calls)');

    await page.getByRole('link', { name: '← Worklist' }).click();
    await page.locator('.worklist[aria-busy="false"]').waitFor();
    expect(await page.locator('.work-item').count()).toBe(CALLERS.length - 1);
    expect(problems).toEqual([]);
  });

  it('is usable by keyboard alone: Tab reaches "Mark called back", Enter opens its form', async () => {
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.classList.contains('resolve') ?? false);
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.locator('.resolve-form textarea').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('fits 360 px in dark mode without sideways scrolling, pages with the cursor, names its time zone; saves screenshots', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    const phoneContext = await browser.newContext({
      viewport: { width: 360, height: 780 },
      colorScheme: 'dark',
      timezoneId: 'America/St_Johns',
      locale: 'en-US',
    });
    const phone = watch(await phoneContext.newPage(), problems);
    // Pages of 2 (the page's ?limit=): "Show more" follows the API's cursor to the end.
    await openDashboard(phone, `${stack.dashboard}?limit=2`, stack.key);
    const shown = () => phone.locator('.work-item').evaluateAll((els) => els.map((el) => el.getAttribute('data-phone')));
    expect(await shown()).toHaveLength(2);
    await phone.getByRole('button', { name: 'Show more' }).click();
    await expect.poll(shown).toHaveLength(4);
    const open = await api<{ items: OpenItem[] }>('callbacks?limit=100');
    expect(await shown()).toEqual(open.items.map((i) => i.phone));
    await phone.locator('.worklist[aria-busy="false"]').waitFor();
    expect(await phone.getByRole('button', { name: 'Show more' }).count()).toBe(0);

    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(await phone.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(17, 20, 24)');
    // Instants in the browser's zone (UTC-3:30 here), which the header names.
    expect(await phone.locator('.zone').textContent()).toBe('Times in America/St_Johns');
    const first = open.items[0];
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/St_Johns', hour: 'numeric', minute: '2-digit' });
    expect(await phone.locator('.work-item .waited').first().getAttribute('title')).toContain(
      local.format(Date.parse(first?.openSince ?? '')),
    );
    await phone.screenshot({ path: join(ARTIFACTS, 'dashboard-360-dark.png') });
    await phoneContext.close();
    expect(problems).toEqual([]);
  });

  it('says "That key was refused" for a wrong key, and "Forget key" asks again', async () => {
    const seen: string[] = [];
    const other = watch(await (await browser.newContext()).newPage(), seen);
    await other.goto(stack.dashboard);
    await other.getByLabel('Operator API key').fill('not-the-key');
    await other.getByRole('button', { name: 'Open the dashboard' }).click();
    await expect.poll(() => other.getByRole('alert').first().textContent()).toContain('That key was refused');
    expect(await other.evaluate(() => sessionStorage.getItem('mcl.operatorKey'))).toBeNull();
    // Only the refusals themselves (and Chromium's line for each), nothing else went wrong.
    expect(seen.filter((line) => !/403/.test(line))).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    await other.context().close();

    await page.getByRole('button', { name: 'Forget key' }).click();
    await page.getByLabel('Operator API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('mcl.operatorKey'))).toBeNull();
  });

  it('shows an outage plainly with a retry that recovers, never a blank page', async () => {
    const seen: string[] = [];
    const other = watch(await context.newPage(), seen);
    // The injected fault: the stats requests fail at the network, as when the API is down.
    await other.route('**/stats?*', (route) => route.abort('connectionrefused'));
    await other.goto(stack.dashboard);
    await other.getByLabel('Operator API key').fill(stack.key);
    await other.getByRole('button', { name: 'Open the dashboard' }).click();
    await other.locator('.worklist[aria-busy="false"]').waitFor();
    const problem = other.locator('.numbers .problem');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('The ledger could not be reached');
    expect(await other.locator('.work-item').count()).toBe(CALLERS.length - 1);
    await other.unroute('**/stats?*');
    await problem.getByRole('button', { name: 'Retry' }).click();
    await other.locator('.numbers[aria-busy="false"] .chart').first().waitFor();
    expect(await problem.count()).toBe(0);
    // Only the injected failures (and Chromium's line for each).
    expect(seen.filter((line) => !/stats|ERR_CONNECTION_REFUSED/.test(line))).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    await other.close();
  });
});
