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

/**
 * How the page is opened: a person signing in (on their first sign-in, with the temporary
 * password and the `newPassword` they choose), or a machine's API key.
 */
export type Who = { email: string; password: string; newPassword?: string } | { key: string };

/** Signs in (or enters the key) on a page showing the sign-in form. */
export async function signInOn(page: Page, who: Who): Promise<void> {
  if ('key' in who) {
    await page.getByRole('button', { name: 'Use an API key instead' }).click();
    await page.getByLabel('Operator API key').fill(who.key);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    return;
  }
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (who.newPassword === undefined) return;
  // Cognito's NEW_PASSWORD_REQUIRED: "Choose your password", typed twice.
  await page.getByLabel('New password', { exact: true }).fill(who.newPassword);
  await page.getByLabel('New password, again').fill(who.newPassword);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
}

/** Opens the dashboard at `url` and signs in; resolves once the worklist and the charts are drawn. */
export async function openDashboard(page: Page, url: string, who: Who): Promise<void> {
  await page.goto(url);
  await signInOn(page, who);
  await page.locator('.worklist[aria-busy="false"]').waitFor();
  await page.locator('.numbers[aria-busy="false"] .chart').first().waitFor();
  await page.locator('.resolved[aria-busy="false"]').waitFor();
}
