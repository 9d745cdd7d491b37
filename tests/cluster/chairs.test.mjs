// Contract sections 2 (if_seq, stale), 5 (grant, move, end_floor) and 6:
// two chairs on two nodes acting at once leave one consistent room.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, stateOf, agreed, assertConsecutive } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(3); });
after(async () => { await cl?.stop(); });

// A room with chairs on n1 and n2, delegates on all three nodes, an
// observer on n3; every delegate has requested the floor.
async function setup(n = 3) {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1, { settings: { speech_s: 600, pause_on_disconnect: false } });
  const m1 = await enter(n1, room.id, 'moderator', 'chair-1');
  const m2 = await enter(n2, room.id, 'moderator', 'chair-2');
  const obs = await enter(n3, room.id, 'observer', 'obs');
  const ds = [];
  for (let i = 0; i < n; i++) {
    const d = await enter(cl.nodes[i % 3], room.id, 'delegate', `d${i}`);
    const r = await act(d.c, { type: 'request_floor' });
    assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
    ds.push(d);
  }
  const all = [m1, m2, obs, ...ds];
  const seq = n;
  await Promise.all(all.map((x) => waitSeq(x.c, seq)));
  return { room, m1, m2, obs, ds, all };
}

// Waits until every client has seen seq, then checks they agree with each
// other and with GET /api/rooms/{id} on every node; returns the state.
async function consistent(s, seq, what) {
  await Promise.all(s.all.map((x) => waitSeq(x.c, seq)));
  await Promise.all(s.all.map((x) => x.c.sync()));
  const states = s.all.map((x) => stateOf(x.c, x.w));
  const ref = agreed(states[0]);
  states.forEach((st, i) => assert.equal(agreed(st), ref, `${what}: client ${s.all[i].w.you.sub} disagrees`));
  for (const x of s.all) {
    assert.deepEqual(x.c.seqErrors, [], `${what}: ${x.w.you.sub} gaps`);
    const evs = x.c.log.filter((m) => m.type === 'event');
    assertConsecutive(evs, `${what}: ${x.w.you.sub}`);
    assert.equal(evs.at(-1).seq, seq, `${what}: ${x.w.you.sub} saw more events than ${seq}`);
  }
  for (const n of cl.nodes) {
    const g = await n.api('GET', `/api/rooms/${s.room.id}`);
    assert.equal(g.status, 200);
    assert.equal(agreed(g.json), ref, `${what}: GET on ${n.id} disagrees with the clients`);
  }
  return states[0];
}

test('both chairs grant with the same if_seq: one ack, one stale, one floor everywhere', withLogs(() => cl, async () => {
  for (let round = 0; round < 5; round++) {
    const s = await setup(3);
    const q = stateOf(s.m1.c, s.m1.w).queue;
    const [g1, g2] = await Promise.all([
      act(s.m1.c, { type: 'grant', request_id: q[0].id, if_seq: 3 }),
      act(s.m2.c, { type: 'grant', request_id: q[1].id, if_seq: 3 }),
    ]);
    const acks = [g1, g2].filter((g) => g.reply.type === 'ack');
    const errs = [g1, g2].filter((g) => g.reply.type === 'error');
    assert.equal(acks.length, 1, `round ${round}: ${JSON.stringify([g1.reply, g2.reply])}`);
    assert.equal(errs[0].reply.code, 'stale', JSON.stringify(errs[0].reply));
    const winner = g1.reply.type === 'ack' ? q[0] : q[1];
    const st = await consistent(s, 4, `round ${round}`);
    assert.equal(st.floor.sub, winner.sub);
    assert.equal(st.floor.request_id, winner.id);
    assert.equal(st.queue.length, 2);
    for (const x of s.all) x.c.close();
  }
}));

test('both chairs grant the head of the queue without if_seq: consistent floor and queue', withLogs(() => cl, async () => {
  for (let round = 0; round < 5; round++) {
    const s = await setup(3);
    const [g1, g2] = await Promise.all([act(s.m1.c, { type: 'grant' }), act(s.m2.c, { type: 'grant' })]);
    const replies = [g1.reply, g2.reply];
    // Either both succeed (the second supersedes the first) or one is refused loudly.
    for (const r of replies) assert.ok(r.type === 'ack' || ['stale', 'not_found', 'conflict'].includes(r.code), JSON.stringify(r));
    const last = Math.max(...replies.filter((r) => r.type === 'ack').map((r) => r.seq));
    const st = await consistent(s, last, `round ${round}`);
    const granted = s.m1.c.log.filter((m) => m.type === 'event' && m.name === 'floor_granted');
    assert.equal(granted.length, replies.filter((r) => r.type === 'ack').length);
    assert.equal(st.floor.sub, granted.at(-1).data.floor.sub);
    assert.equal(st.queue.length, 3 - granted.length);
    if (granted.length === 2) {
      assert.notEqual(granted[0].data.floor.sub, granted[1].data.floor.sub, 'the same request granted twice');
      const ended = s.m1.c.log.filter((m) => m.type === 'event' && m.name === 'floor_ended');
      assert.equal(ended.length, 1);
      assert.equal(ended[0].data.reason, 'superseded');
    }
    for (const x of s.all) x.c.close();
  }
}));

test('both chairs move requests at once: one queue everywhere', withLogs(() => cl, async () => {
  const s = await setup(5);
  for (let round = 0; round < 8; round++) {
    const q = stateOf(s.m1.c, s.m1.w).queue;
    const [a, b] = await Promise.all([
      act(s.m1.c, { type: 'move', request_id: q[4].id, to: 0 }),
      act(s.m2.c, { type: 'move', request_id: q[0].id, to: 4 }),
    ]);
    for (const r of [a.reply, b.reply]) assert.equal(r.type, 'ack', JSON.stringify(r));
    const st = await consistent(s, Math.max(a.reply.seq, b.reply.seq), `move round ${round}`);
    assert.deepEqual(st.queue.map((r) => r.id).sort(), q.map((r) => r.id).sort(), 'requests lost or duplicated');
  }
  // With if_seq: one wins, the other is stale, nothing else changed.
  const seq = s.m1.c.lastSeq;
  const q = stateOf(s.m1.c, s.m1.w).queue;
  const [a, b] = await Promise.all([
    act(s.m1.c, { type: 'move', request_id: q[1].id, to: 3, if_seq: seq }),
    act(s.m2.c, { type: 'remove_request', request_id: q[2].id, if_seq: seq }),
  ]);
  const acks = [a, b].filter((x) => x.reply.type === 'ack');
  assert.equal(acks.length, 1, JSON.stringify([a.reply, b.reply]));
  assert.equal([a, b].find((x) => x.reply.type === 'error').reply.code, 'stale');
  const st = await consistent(s, seq + 1, 'if_seq move/remove');
  assert.equal(st.queue.length, a.reply.type === 'ack' ? 5 : 4);
  for (const x of s.all) x.c.close();
}));

test('both chairs end the floor at once: exactly one floor_ended, no floor anywhere', withLogs(() => cl, async () => {
  for (let round = 0; round < 5; round++) {
    const s = await setup(2);
    const g = await act(s.m1.c, { type: 'grant' });
    assert.equal(g.reply.type, 'ack');
    await Promise.all(s.all.map((x) => waitSeq(x.c, g.reply.seq)));
    const [e1, e2] = await Promise.all([act(s.m1.c, { type: 'end_floor' }), act(s.m2.c, { type: 'end_floor' })]);
    const replies = [e1.reply, e2.reply];
    const st = await consistent(s, g.reply.seq + 1, `end round ${round}`);
    assert.equal(st.floor, null);
    const ended = s.obs.c.log.filter((m) => m.type === 'event' && m.name === 'floor_ended');
    assert.equal(ended.length, 1, JSON.stringify(ended));
    assert.equal(ended[0].data.reason, 'moderator');
    // The loser: an error (nothing to end) or an ack at the seq of the one floor_ended.
    for (const r of replies) {
      if (r.type === 'ack') assert.equal(r.seq, g.reply.seq + 1, JSON.stringify(replies));
      else assert.ok(['not_found', 'conflict', 'stale'].includes(r.code), JSON.stringify(r));
    }
    assert.ok(replies.some((r) => r.type === 'ack'), JSON.stringify(replies));
    for (const x of s.all) x.c.close();
  }
}));
