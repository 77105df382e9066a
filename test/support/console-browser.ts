import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's headless Chromium driven by playwright-core (never a downloaded browser), for the console's
 * browser tests: pages located by role and label, checked with axe-core, screenshotted at 1280 and 390 px
 * into test/screenshots/ (ignored by git).
 */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A fresh browser profile (its own sessionStorage and cookies): one person. */
export async function newPerson(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Serious and critical accessibility violations of what the page shows now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}${whyNot(n)}`).slice(0, 3).join(', ')}`);
}

/** What axe measured for a node (e.g. the colours and ratio of a contrast failure), when it says. */
function whyNot(node: { any: { message: string }[]; all: { message: string }[]; none: { message: string }[] }): string {
  const check = [...node.any, ...node.all, ...node.none][0];
  return check ? ` [${check.message}]` : '';
}

/**
 * Waits until no finite CSS transition or animation is running: a notification fading in has, for a
 * moment, the contrast of its opacity, and axe measured that (2.75:1 for a title mid-fade) instead of
 * the page a person reads. Endless ones (a loader) are not waited for.
 */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      // Runs in the page; these tests are compiled without the DOM's types.
      type Running = { playState: string; effect: { getTiming(): { iterations?: number } } | null };
      const doc = (globalThis as unknown as { document: { getAnimations(): Running[] } }).document;
      return doc.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity);
    },
    undefined,
    { timeout: 5_000 },
  );
}

/** Checks the page with axe and screenshots it at 1280 px and 390 px wide. */
export async function checkPage(page: Page, name: string): Promise<string[]> {
  await page.waitForLoadState('networkidle');
  await settled(page);
  const violations = await seriousViolations(page);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-1280.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(150);
  await settled(page);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-390.png`) });
  const narrow = await seriousViolations(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  return [...violations, ...narrow.map((v) => `at 390 px: ${v}`)];
}

/** Presses Tab until the focused element has this accessible name (label, aria-label or text). */
export async function tabTo(page: Page, name: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const focused = (await page.evaluate(
      `(() => { const e = document.activeElement; if (!e) return ''; const l = e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent || ''; return l.trim(); })()`,
    )) as string;
    if (focused === name) return;
  }
  throw new Error(`${name} was not reached with ${max} Tab presses`);
}
