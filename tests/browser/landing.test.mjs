// Before and after a room: the page without an invite, pasting an invite,
// the token leaving the address bar, a reload keeping the session, the
// final messages (bad invite, no such room) without a reconnect loop, and
// user text shown as text, never as HTML.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mintToken } from '../lib/harness.mjs';
import {
  launch, startMeeting, invite, ready, region, btn, waitText, until, DESKTOP, T,
} from './browser.mjs';

describe('invites and final messages', { timeout: 120000 }, () => {
  let server; let room; let browser;

  before(async () => {
    ({ server, room } = await startMeeting());
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  async function fresh() {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.setDefaultTimeout(T);
    page.sockets = 0;
    page.on('websocket', () => { page.sockets += 1; });
    return page;
  }

  it('explains how to join without an invite, and joins with a pasted one', async () => {
    const page = await fresh();
    try {
      await page.goto(`${server.http}/`);
      await page.getByRole('heading', { name: 'Join a meeting' }).waitFor();
      await waitText(page.locator('main'), /invite link/i);
      const url = await invite(server, room.id, { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France' });
      await page.getByLabel('Invite link').fill(new URL(url, server.http).href);
      await page.getByLabel('Invite link').press('Enter');
      await ready(page);
      await btn(page, 'Request the floor').waitFor();
      // A reload keeps the session (the token is in sessionStorage, not the URL).
      await page.reload();
      await ready(page);
      assert.ok(!page.url().includes('#t='));
      await btn(page, 'Request the floor').waitFor();
    } finally { await page.context().close(); }
  });

  it('removes the token from the address bar', async () => {
    const page = await fresh();
    try {
      const url = await invite(server, room.id, { sub: 'obs', name: 'Observer', role: 'observer' });
      await page.goto(new URL(url, server.http).href);
      await ready(page);
      assert.equal(new URL(page.url()).hash, '');
      assert.ok(await page.evaluate(() => Object.values(sessionStorage).some((v) => v.split('.').length === 3)));
    } finally { await page.context().close(); }
  });

  it('shows a final message for an invalid invite, and does not retry', async () => {
    const page = await fresh();
    try {
      const bad = mintToken('not-the-secret', { sub: 'x', name: 'X', room: room.id, role: 'delegate' });
      await page.goto(`${server.http}/#t=${bad}`);
      await waitText(page.locator('main'), /invite link is not valid/);
      await page.getByLabel('New invite link').waitFor();
      await page.waitForTimeout(2000);
      assert.equal(page.sockets, 1, 'no reconnect after 4401');
    } finally { await page.context().close(); }
  });

  it('shows a final message for a room that does not exist', async () => {
    const page = await fresh();
    try {
      const token = server.token({ sub: 'x', name: 'X', room: 'no-such-room', role: 'delegate' });
      await page.goto(`${server.http}/#t=${token}`);
      await waitText(page.locator('main'), /does not exist/);
      await page.waitForTimeout(2000);
      assert.equal(page.sockets, 1, 'no reconnect after 4404');
    } finally { await page.context().close(); }
  });

  it('shows names and messages as text, never as HTML', async () => {
    const page = await fresh();
    try {
      const evil = '<img src=x onerror="window.pwned=1">';
      const url = await invite(server, room.id, { sub: 'evil', name: evil, role: 'delegate', delegation: '<b>Bold</b>' });
      await page.goto(new URL(url, server.http).href);
      await ready(page);
      await page.getByLabel('Message').fill('<script>window.pwned=2</script><i>x</i>');
      await btn(page, 'Send').click();
      await waitText(region(page, 'Discussion'), '<script>window.pwned=2</script><i>x</i>');
      await btn(page, 'Request the floor').click();
      await waitText(region(page, 'Speakers list'), evil);
      await waitText(region(page, 'Participants'), '<b>Bold</b>');
      assert.equal(await page.locator('main img, main b, main i, main script').count(), 0);
      assert.equal(await page.evaluate(() => window.pwned), undefined);
      // user text carries dir="auto" (right-to-left names and messages)
      assert.equal(await region(page, 'Discussion').locator('.msg-text[dir="auto"]').count(), 1);
      await until(async () => (await region(page, 'Speakers list').locator('[dir="auto"]').count()) >= 1, 'dir=auto in the list');
    } finally { await page.context().close(); }
  });
});
