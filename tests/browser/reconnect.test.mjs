// The server goes away (SIGTERM: close 1001) and comes back on the same
// port and data directory. Every page shows "reconnecting", reconnects by
// itself, resumes with since + epoch, shows what happened meanwhile, and
// never shows an event twice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, join, command } from '../lib/harness.mjs';
import {
  launch, startMeeting, open, region, btn, waitText, waitSpeakers, until, announcements,
} from './browser.mjs';

const CHAIR = { sub: 'chair', name: 'Ana Silva', role: 'moderator' };
const FR = { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France' };
const OBS = { sub: 'obs', name: 'Observer', role: 'observer' };

async function messageCount(page, text) {
  return region(page, 'Discussion').getByRole('listitem').filter({ hasText: text }).count();
}

describe('reconnecting after the server went away', { timeout: 180000 }, () => {
  let server; let room; let browser; let pages; let chair; let fr; let obs;
  const joins = new Map(); // page -> join frames sent

  before(async () => {
    ({ server, room } = await startMeeting());
    browser = await launch();
    chair = await open(browser, server, room.id, CHAIR);
    fr = await open(browser, server, room.id, FR);
    obs = await open(browser, server, room.id, OBS);
    pages = [chair, fr, obs];
    for (const p of pages) {
      joins.set(p, []);
      p.on('websocket', (ws) => ws.on('framesent', (f) => {
        try { const m = JSON.parse(f.payload); if (m.type === 'join') joins.get(p).push(m); } catch { /* not JSON */ }
      }));
    }
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('resumes without a gap or a duplicate', async () => {
    await btn(fr, 'Request the floor').click();
    await chair.getByLabel('Message').fill('Before the cut');
    await btn(chair, 'Send').click();
    for (const p of pages) {
      await waitSpeakers(p, ['Claire Dubois']);
      await until(async () => (await messageCount(p, 'Before the cut')) === 1, 'first message');
    }

    const listen = new URL(server.http).host;
    await server.stop('SIGTERM');
    for (const p of pages) {
      // visible, once, and in an aria-live region
      await p.getByText(/Reconnecting/).waitFor();
      await until(async () => /Reconnecting/i.test(await announcements(p)), 'reconnecting announced');
    }

    // Same port, same data directory, same secret: the room comes back
    // from its journal. Another delegate acts before the pages are back.
    server = await startServer({ dir: server.dir, listen, secret: server.secret, adminKey: server.adminKey });
    const { client: de, welcome } = await join(server, { sub: 'de', name: 'Hans Weber', room: room.id, role: 'delegate', delegation: 'Germany' });
    assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
    assert.equal((await command(de, { type: 'say', text: 'While you were away' })).type, 'ack');
    assert.equal((await command(de, { type: 'request_floor' })).type, 'ack');

    for (const p of pages) {
      await p.locator('#conn[data-state="open"]').waitFor({ timeout: 30000 });
      await waitSpeakers(p, ['Claire Dubois', 'Hans Weber']);
      await until(async () => (await messageCount(p, 'While you were away')) === 1, 'missed message shown once');
      assert.equal(await messageCount(p, 'Before the cut'), 1, 'no duplicate after resume');
      await until(async () => /Connection restored/.test(await announcements(p)), 'restored announced');
      assert.equal(await p.getByText(/reconnecting/i).count(), 0, 'the reconnecting notice is gone');
    }

    // The page resumed: its second join named the last seq it saw and the epoch.
    for (const p of pages) {
      const js = joins.get(p);
      assert.ok(js.length >= 1, 'a join after the restart');
      const last = js[js.length - 1];
      assert.ok(Number.isInteger(last.since) && last.since > 0, `since in ${JSON.stringify(last)}`);
      assert.equal(typeof last.epoch, 'string');
    }

    // Live again: one new message, shown once everywhere.
    await de.send({ type: 'say', text: 'After the return', id: 'x1' });
    for (const p of pages) {
      await until(async () => (await messageCount(p, 'After the return')) === 1, 'live message');
      const texts = await region(p, 'Discussion').locator('.msg-text').allTextContents();
      assert.equal(new Set(texts).size, texts.length, `a message shown twice: ${JSON.stringify(texts)}`);
    }
    de.close();
  });
});
