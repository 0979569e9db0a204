/**
 * A real browser for the dashboard: Debian's `chromium` (apt) driven by playwright-core, which
 * ships no browser of its own. CHROMIUM_PATH names another Chromium or Chrome binary.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH?.trim();
  if (configured) return configured;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error('No Chromium found: apt-get install chromium (or set CHROMIUM_PATH)');
  return found;
}

export async function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'], headless: true });
}

/** Opens the dashboard at `url` and enters `key`; resolves once the worklist and the charts are drawn. */
export async function openDashboard(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Operator API key').fill(key);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.locator('.worklist[aria-busy="false"]').waitFor();
  await page.locator('.numbers[aria-busy="false"] .chart').first().waitFor();
  await page.locator('.resolved[aria-busy="false"]').waitFor();
}
