// Shared helpers for the browser tests: a headless Chromium driven by
// playwright-core, a real rostrum-server started by the harness, and pages
// opened the way people open them (the invite URL from the admin API).
// Controls are found by role and accessible name, as an outside test would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, createRoom, root } from '../lib/harness.mjs';

export const CHROMIUM = process.env.ROSTRUM_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };
export const IMAGES = path.join(root, 'docs', 'images');
export const T = 15000; // generous timeout for one expected change

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

let roomc = 0;
// Starts a server and creates a room. Returns { server, room }.
export async function startMeeting({ settings = {}, title = 'Interactive closing discussion', agenda, serverOpts = {} } = {}) {
  const server = await startServer(serverOpts);
  const room = await createRoom(server, {
    id: `web-${process.pid}-${++roomc}`,
    title,
    agenda: agenda || [
      { id: 'q1', title: 'Emerging threats and the misuse of new technologies' },
      { id: 'q2', title: 'Strengthening international cooperation' },
      { id: 'q3', title: 'The way forward' },
    ],
    settings,
  });
  return { server, room };
}

// Asks the admin API for an invite and returns its URL (path + fragment).
export async function invite(server, roomId, person) {
  const res = await server.api('POST', `/api/rooms/${roomId}/tokens`, person);
  if (res.status !== 201 || !res.json || !res.json.url) throw new Error(`invite: ${res.status} ${res.text}`);
  return res.json.url;
}

// Opens the invite in its own browser context (own sessionStorage, like
// another person's browser) and waits until the room is shown.
export async function open(browser, server, roomId, person, { viewport = DESKTOP, wait = true } = {}) {
  const url = await invite(server, roomId, person);
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/Vienna' });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  page.consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  await page.goto(new URL(url, server.http).href);
  if (wait) await ready(page);
  return page;
}

export async function ready(page) {
  await page.getByRole('region', { name: 'Current speaker' }).waitFor();
  await page.locator('#conn[data-state="open"]').waitFor();
}

// Regions by name.
export const region = (page, name) => page.getByRole('region', { name, exact: true });
export const speakers = (page) => region(page, 'Speakers list').getByRole('listitem');
export const btn = (scope, name) => scope.getByRole('button', { name });

// Polls fn() until it returns a truthy value (or throws on timeout).
export async function until(fn, what, ms = T) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last && last.stack ? last.stack : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Names (first line of each entry) in the speakers list, in order.
export async function speakerNames(page) {
  return region(page, 'Speakers list').locator('ol > li .name').allTextContents();
}

export async function axeAudit(page) {
  // Evaluated through the debugging protocol: the page's Content-Security-
  // Policy (its own scripts only) stays in force for everything else.
  await page.evaluate(fs.readFileSync(path.join(root, 'tests', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
}

export async function screenshot(page, name) {
  fs.mkdirSync(IMAGES, { recursive: true });
  await page.evaluate(() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); });
  await page.screenshot({ path: path.join(IMAGES, `${name}.png`), fullPage: false });
}

export function tmpDir(prefix = 'rostrum-web-') { return fs.mkdtempSync(path.join(os.tmpdir(), prefix)); }

// Waits until the locator's text matches re (a RegExp) or equals a string.
export async function waitText(locator, re, ms = T) {
  return until(async () => {
    const t = (await locator.textContent({ timeout: ms })) || '';
    return (re instanceof RegExp ? re.test(t) : t.includes(re)) ? t : null;
  }, `text ${re} in ${locator}`, ms);
}

// Waits until the speakers list of page shows exactly these names, in order.
export async function waitSpeakers(page, names, ms = T) {
  const want = JSON.stringify(names);
  let now = null;
  try {
    return await until(async () => { now = JSON.stringify(await speakerNames(page)); return now === want; }, `speakers ${want}`, ms);
  } catch (e) {
    throw new Error(`speakers list never became ${want}; it shows ${now}`);
  }
}

// What the page's aria-live regions say right now, as one string.
export async function announcements(page) {
  return (await page.locator('[aria-live]:not([aria-live="off"])').allTextContents()).join(' | ');
}
