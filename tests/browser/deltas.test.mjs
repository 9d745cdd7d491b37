// The browser client and the delta form (contract section 10): it joins
// with "deltas": true, applies queue_ops and stats_ops, checks queue_len
// and queue_hash with its own SHA-256 (crypto.subtle is missing on plain
// http to another host), and when its queue disagrees with the server's it
// joins again with since and heals, without a duplicate or missing event.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join, command } from '../lib/harness.mjs';
import { launch, startMeeting, invite, ready, region, waitSpeakers, until, T, DESKTOP } from './browser.mjs';

const OBS = { sub: 'obs', name: 'Olga Observer', role: 'observer' };
const CHAIR = { sub: 'chair', name: 'Ana Silva', role: 'moderator' };
const DELS = [['fr', 'Claire Dubois', 'France'], ['br', 'Joao Souza', 'Brazil'], ['ke', 'Amina Otieno', 'Kenya'], ['jp', 'Kenji Sato', 'Japan']];

describe('delta form in the browser', { timeout: 120000 }, () => {
  let server; let room; let browser; let page;
  const frames = []; // every frame the page received or sent, parsed, in order
  before(async () => {
    ({ server, room } = await startMeeting({ serverOpts: { dataDir: false } }));
    browser = await launch();
    const context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(T);
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('computes SHA-256 like node:crypto (known vectors, UTF-8, block edges)', async () => {
    await page.goto(`${server.http}/`);
    const inputs = ['', 'abc', 'abcdbcdecdefdefgefghfghighijhijkijkljklmjklmnklmnolmnopmnopqnopq',
      'The quick brown fox jumps over the lazy dog', 'é€😀 مرحبا 你好', 'a'.repeat(55), 'a'.repeat(56),
      'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(65), 'x'.repeat(100000)];
    for (let i = 0; i < 20; i++) inputs.push(randomBytes(1 + i * 13).toString('base64'));
    const got = await page.evaluate(async (xs) => {
      const D = await import('/js/delta.js');
      return { hashes: xs.map((x) => D.sha256Hex(x)), q: D.queueHash([{ id: 'r1' }, { id: 'r2' }, { id: 'r3' }]), e: D.queueHash([]) };
    }, inputs);
    const want = inputs.map((x) => createHash('sha256').update(x, 'utf8').digest('hex'));
    assert.deepEqual(got.hashes, want);
    assert.equal(got.hashes[1], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(got.q, '5b63746c4f244bc3');
    assert.equal(got.e, 'e3b0c44298fc1c14');
  });

  it('applies the ops, and after its queue was tampered with, re-joins with since and heals', async () => {
    const chair = (await join(server, { ...CHAIR, room: room.id })).client;
    const dels = {};
    for (const [sub, name, delegation] of DELS) dels[sub] = (await join(server, { sub, name, room: room.id, role: 'delegate', delegation })).client;
    await command(dels.fr, { type: 'request_floor' });
    await command(dels.br, { type: 'request_floor' });
    await command(chair, { type: 'say', text: 'Welcome, everyone' });

    // The observer's page, with every WebSocket frame recorded from the start.
    const context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    page.setDefaultTimeout(T);
    page.consoleErrors = [];
    page.on('console', (m) => { if (m.type() === 'error') page.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => { try { frames.push({ dir: 'out', m: JSON.parse(f.payload) }); } catch { /* not JSON */ } });
      ws.on('framereceived', (f) => { try { frames.push({ dir: 'in', m: JSON.parse(f.payload) }); } catch { /* not JSON */ } });
    });
    await page.goto(new URL(await invite(server, room.id, OBS), server.http).href);
    await ready(page);
    const firstJoin = frames.find((f) => f.dir === 'out' && f.m.type === 'join');
    assert.equal(firstJoin.m.deltas, true);
    await waitSpeakers(page, ['Claire Dubois', 'Joao Souza']);

    // Live delta events: a request, a move, a grant and a yield.
    await command(dels.ke, { type: 'request_floor' });
    await waitSpeakers(page, ['Claire Dubois', 'Joao Souza', 'Amina Otieno']);
    const queue = (await server.api('GET', `/api/rooms/${room.id}`)).json.queue;
    const ke = queue.find((r) => r.sub === 'ke');
    await command(chair, { type: 'move', request_id: ke.id, to: 0 });
    await waitSpeakers(page, ['Amina Otieno', 'Claire Dubois', 'Joao Souza']);
    await command(chair, { type: 'grant' });
    await waitSpeakers(page, ['Claire Dubois', 'Joao Souza']);
    await command(dels.ke, { type: 'yield' });
    await until(async () => {
      const st = await page.evaluate(() => window.rostrum.state.room.stats);
      return st && st.ke && st.ke.turns === 1;
    }, 'stats from stats_ops');
    const evIn = frames.filter((f) => f.dir === 'in' && f.m.type === 'event');
    assert.ok(evIn.some((f) => f.m.name === 'floor_granted' && Array.isArray(f.m.state.queue_ops) && !('queue' in f.m.state)), 'delta form on the wire');
    assert.ok(evIn.some((f) => f.m.name === 'floor_ended' && f.m.state.stats_ops && !('stats' in f.m.state)));
    assert.equal(await page.evaluate(() => window.rostrum.state.resyncs), 0);

    // Tamper: the page "loses" the head of its queue (as a client bug or
    // a lost op would). The next queue event disagrees with the hash.
    const before = await page.evaluate(() => { const s = window.rostrum.state; s.room.queue.splice(0, 1); return s.seq; });
    const mark = frames.length;
    const r = await command(dels.jp, { type: 'request_floor' });
    assert.equal(r.type, 'ack');
    await until(async () => (await page.evaluate(() => window.rostrum.state.resyncs)) === 1, 'the page noticed');
    await page.locator('#conn[data-state="open"]').waitFor();
    await waitSpeakers(page, ['Claire Dubois', 'Joao Souza', 'Kenji Sato']);
    // It joined again with since = the seq of the event it could not
    // check, and the same epoch, and got a resumed welcome.
    const rejoin = frames.slice(mark).find((f) => f.dir === 'out' && f.m.type === 'join');
    assert.ok(rejoin, 'a new join');
    assert.equal(rejoin.m.deltas, true);
    assert.equal(rejoin.m.since, r.seq);
    assert.equal(rejoin.m.since, before + 1);
    const welcome = frames.slice(mark).find((f) => f.dir === 'in' && f.m.type === 'welcome');
    assert.equal(welcome.m.resumed, true);
    assert.deepEqual(welcome.m.events, []);

    // And it goes on: no duplicate, nothing missing.
    await command(chair, { type: 'say', text: 'After the heal' });
    await command(dels.br, { type: 'withdraw', request_id: (await server.api('GET', `/api/rooms/${room.id}`)).json.queue.find((x) => x.sub === 'br').id });
    await waitSpeakers(page, ['Claire Dubois', 'Kenji Sato']);
    const serverRoom = (await server.api('GET', `/api/rooms/${room.id}`)).json;
    const st = await page.evaluate(() => {
      const s = window.rostrum.state;
      return { seq: s.seq, queue: s.room.queue, stats: s.room.stats, messages: s.messages.map((m) => m.seq), resyncs: s.resyncs };
    });
    assert.equal(st.seq, serverRoom.seq);
    assert.deepEqual(st.queue, serverRoom.queue);
    assert.deepEqual(st.stats, serverRoom.stats);
    assert.deepEqual(st.messages, [...new Set(st.messages)], 'no message twice');
    assert.equal(st.messages.length, 2);
    assert.equal(st.resyncs, 1);
    const discussion = region(page, 'Discussion');
    assert.equal(await discussion.getByText('After the heal').count(), 1);
    assert.equal(await discussion.getByText('Welcome, everyone').count(), 1);
    // Every event seq the page got, over both connections, once and in order.
    const seqs = frames.filter((f) => f.dir === 'in' && f.m.type === 'event').map((f) => f.m.seq);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `events ${seqs}`);
    assert.deepEqual(page.consoleErrors, []);
    for (const c of [chair, ...Object.values(dels)]) c.close();
  });
});
