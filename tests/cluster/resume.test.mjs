// Contract section 3 (since/epoch) across nodes: a client that joined on one
// node and rejoins on another gets exactly the events it missed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(3); });
after(async () => { await cl?.stop(); });

const key = (e) => JSON.stringify([e.seq, e.name, e.actor, e.ts, e.data, e.state]);

test('join on node A, disconnect, events on node C, rejoin on node B with since+epoch: exactly the missed events', withLogs(() => cl, async () => {
  const [A, B, C] = cl.nodes;
  const room = await newRoom(A, { settings: { speech_s: 600, chat: 'open' } });
  const m = await enter(C, room.id, 'moderator', 'chair');
  await act(m.c, { type: 'announce', text: 'before' });
  const d = await enter(A, room.id, 'delegate', 'fr', { delegation: 'France' });
  assert.equal(d.w.seq, 1);
  const r = await act(d.c, { type: 'request_floor' });
  assert.equal(r.reply.type, 'ack');
  const seen = r.reply.seq;
  const epoch = d.w.epoch;
  d.c.close();
  await d.c.waitClose();

  const at = m.c.mark();
  await act(m.c, { type: 'announce', text: 'while away 1' });
  await act(m.c, { type: 'grant' });
  await act(m.c, { type: 'announce', text: 'while away 2' });
  const other = await enter(A, room.id, 'delegate', 'de');
  await act(other.c, { type: 'say', text: 'from another delegate on A' });
  await act(m.c, { type: 'end_floor' });
  await m.c.sync();
  // The chair's node may deliver fr's own request after the mark (it was
  // acknowledged to fr first): what fr missed is what came after its ack.
  const missed = m.c.eventsSince(at).filter((e) => e.seq > seen);
  assert.ok(missed.length >= 5);

  const back = await enter(B, room.id, 'delegate', 'fr', { delegation: 'France' }, { since: seen, epoch });
  assert.equal(back.w.resumed, true, JSON.stringify(back.w).slice(0, 500));
  assert.equal(back.w.epoch, epoch);
  assert.equal(back.w.seq, missed.at(-1).seq);
  assert.deepEqual(back.w.events.map((e) => e.seq), missed.map((e) => e.seq));
  assert.deepEqual(back.w.events.map(key), missed.map(key));
  assert.equal(back.w.room.floor, null);

  // Live events continue right after, with no gap or duplicate.
  const r2 = await act(m.c, { type: 'announce', text: 'after' });
  const ev = await waitSeq(back.c, r2.reply.seq);
  assert.equal(ev.seq, back.w.seq + 1);
  assert.deepEqual(back.c.seqErrors, []);
  for (const x of [m, other, back]) x.c.close();
}));

test('rejoin on a node that never held the room, and since with another epoch', withLogs(() => cl, async () => {
  const [A, B, C] = cl.nodes;
  const room = await newRoom(C, { settings: { chat: 'open' } });
  const d = await enter(A, room.id, 'delegate', 'x1');
  for (let i = 0; i < 3; i++) await act(d.c, { type: 'say', text: `m${i}` });
  const seen = 2;
  const epoch = d.w.epoch;
  d.c.close();
  await d.c.waitClose();
  // B has no connection in the room so far: it must read the history from Redis.
  const back = await enter(B, room.id, 'delegate', 'x1', {}, { since: seen, epoch });
  assert.equal(back.w.resumed, true);
  assert.deepEqual(back.w.events.map((e) => e.seq), [3]);
  assert.equal(back.w.events[0].data.text, 'm2');
  const wrong = await enter(C, room.id, 'delegate', 'x2', {}, { since: seen, epoch: `${epoch}x` });
  assert.equal(wrong.w.resumed, false);
  assert.equal(wrong.w.epoch, epoch);
  assert.deepEqual(wrong.w.events.map((e) => e.seq), [1, 2, 3]);
  // since = current seq on a third node: resumed with no events.
  const same = await enter(C, room.id, 'delegate', 'x3', {}, { since: 3, epoch });
  assert.equal(same.w.resumed, true);
  assert.deepEqual(same.w.events, []);
  for (const x of [back, wrong, same]) x.c.close();
}));
