// The client's room state (clients/web/js/store.js), exercised inside
// Chromium on the page the server serves: events applied once by seq,
// gaps detected, a resume that did not resume (resumed:false) rebuilt from
// the snapshot without losing or repeating messages, a new epoch starting
// afresh, presence, and removed participants staying removed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/harness.mjs';
import { launch, T } from './browser.mjs';

describe('client state', { timeout: 60000 }, () => {
  let server; let browser; let page;
  before(async () => {
    server = await startServer({ dataDir: false });
    browser = await launch();
    page = await browser.newPage();
    page.setDefaultTimeout(T);
    await page.goto(`${server.http}/`);
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('applies each event once, in seq order, and resumes without duplicates', async () => {
    const r = await page.evaluate(async () => {
      const S = await import('/js/store.js');
      const room = () => ({ id: 'r', title: 'R', status: 'open', agenda: [], agenda_item: null, settings: { chat: 'open', list_open: true }, queue: [], floor: null, muted: [], stats: {} });
      const msg = (seq, text) => ({ type: 'event', seq, ts: 1000 + seq, name: 'message', actor: 'a', data: { from: { sub: 'a', name: 'A', delegation: null, role: 'delegate' }, text, kind: 'chat' }, state: {} });
      const req = (seq, id) => ({ type: 'event', seq, ts: 1, name: 'floor_requested', actor: 'a', data: { request: { id, sub: 'a', name: 'A', kind: 'speech' } }, state: { queue: [{ id, sub: 'a', name: 'A', kind: 'speech' }] } });
      const out = {};
      const s = S.createStore();
      S.applyWelcome(s, { type: 'welcome', seq: 2, epoch: 'e1', resumed: false, you: { sub: 'a', name: 'A', role: 'delegate' }, room: room(), participants: [{ sub: 'a', name: 'A', role: 'delegate', online: true }], observers: 3, events: [msg(1, 'one'), msg(2, 'two')] });
      out.afterWelcome = s.messages.map((m) => m.data.text);
      out.old = S.applyEvent(s, msg(2, 'two'));
      out.applied = S.applyEvent(s, req(3, 'r1'));
      out.queue = s.room.queue.map((q) => q.id);
      out.gap = S.applyEvent(s, msg(5, 'five'));
      out.seqAfterGap = s.seq;
      // resume that could resume: events after since only
      S.applyWelcome(s, { type: 'welcome', seq: 5, epoch: 'e1', resumed: true, you: s.you, room: { ...room(), queue: [{ id: 'r1', sub: 'a', name: 'A', kind: 'speech' }] }, participants: [], observers: 2, events: [msg(4, 'four'), msg(5, 'five')] });
      out.resumed = s.messages.map((m) => m.data.text);
      // same history, but the server could not resume: recent events overlap what we have
      S.applyWelcome(s, { type: 'welcome', seq: 7, epoch: 'e1', resumed: false, you: s.you, room: room(), participants: [{ sub: 'a', name: 'A', role: 'delegate', online: true }], observers: 2, events: [msg(4, 'four'), msg(5, 'five'), msg(6, 'six'), msg(7, 'seven')] });
      out.notResumed = s.messages.map((m) => m.data.text);
      out.queueRebuilt = s.room.queue.length;
      out.seq = s.seq;
      // presence
      S.applyPresence(s, { type: 'presence', action: 'join', participant: { sub: 'b', name: 'B', role: 'delegate', online: true } });
      S.applyPresence(s, { type: 'presence', observers: 9 });
      out.people = [...s.participants.keys()];
      out.observers = s.observers;
      S.applyEvent(s, { type: 'event', seq: 8, ts: 1, name: 'participant_removed', actor: 'c', data: { sub: 'b' }, state: { queue: [], muted: [] } });
      S.applyPresence(s, { type: 'presence', action: 'leave', participant: { sub: 'b', name: 'B', role: 'delegate', online: false } });
      out.afterRemoval = [...s.participants.keys()];
      // another epoch: the history was lost; start afresh
      S.applyWelcome(s, { type: 'welcome', seq: 1, epoch: 'e2', resumed: false, you: s.you, room: room(), participants: [], observers: 0, events: [msg(1, 'fresh')] });
      out.newEpoch = s.messages.map((m) => m.data.text);
      out.newSeq = s.seq;
      return out;
    });
    assert.deepEqual(r.afterWelcome, ['one', 'two']);
    assert.equal(r.old, 'old');
    assert.equal(r.applied, 'applied');
    assert.deepEqual(r.queue, ['r1']);
    assert.equal(r.gap, 'gap');
    assert.equal(r.seqAfterGap, 3);
    assert.deepEqual(r.resumed, ['one', 'two', 'four', 'five']);
    assert.deepEqual(r.notResumed, ['one', 'two', 'four', 'five', 'six', 'seven']);
    assert.equal(r.queueRebuilt, 0, 'state comes from the new snapshot');
    assert.equal(r.seq, 7);
    assert.deepEqual(r.people, ['a', 'b']);
    assert.equal(r.observers, 9);
    assert.deepEqual(r.afterRemoval, ['a']);
    assert.deepEqual(r.newEpoch, ['fresh']);
    assert.equal(r.newSeq, 1);
  });

  it('computes the countdown locally, with the clock skew', async () => {
    const r = await page.evaluate(async () => {
      const S = await import('/js/store.js');
      const s = S.createStore();
      const now = Date.now();
      s.room = { floor: { sub: 'a', limit_s: 60, started_at: now - 10000, elapsed_ms: 5000, paused: false } };
      const running = S.spentMs(s, now);
      s.skew = 2000; // the server's clock is 2 s ahead of ours
      const skewed = S.spentMs(s, now);
      s.room.floor.paused = true;
      const paused = S.spentMs(s, now);
      return { running, skewed, paused };
    });
    assert.equal(r.running, 15000);
    assert.equal(r.skewed, 17000);
    assert.equal(r.paused, 5000);
  });
});
