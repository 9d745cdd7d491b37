// Contract section 5 (floor clock) with section 6: every node arms the floor
// clock, exactly one time_up (or one floor_ended reason time) per floor,
// within one second of the limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, sleep, stateOf, agreed } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(3); });
after(async () => { await cl?.stop(); });

async function setup(onTimeUp) {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n2, { settings: { speech_s: 2, on_time_up: onTimeUp, pause_on_disconnect: false } });
  const m = await enter(n1, room.id, 'moderator', 'chair');
  const d = await enter(n2, room.id, 'delegate', 'fr');
  const o = await enter(n3, room.id, 'observer', 'obs');
  const d3 = await enter(n3, room.id, 'delegate', 'de');
  return { room, m, d, o, d3, all: [m, d, o, d3] };
}

// The delegate on n2 requests the floor and every client sees it before a
// chair grants (cross-node causality of refusals is tested in delivery.test.mjs).
async function requested(s) {
  const r = await act(s.d.c, { type: 'request_floor' });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  await Promise.all(s.all.map((x) => waitSeq(x.c, r.reply.seq)));
}

const named = (c, name) => c.log.filter((e) => e.type === 'event' && e.name === name);

for (const grantOn of ['n1', 'n3']) {
  test(`speech_s 2, on_time_up notify, granted by a chair on ${grantOn}: exactly one time_up on every node, within 1 s of the limit`, withLogs(() => cl, async () => {
    const s = await setup('notify');
    // The chair granting may be on another node than the one that created the room.
    const chair = grantOn === 'n1' ? s.m : await enter(cl.nodes[2], s.room.id, 'moderator', 'chair-3');
    if (chair !== s.m) s.all.push(chair);
    await requested(s);
    const g = await act(chair.c, { type: 'grant' });
    assert.equal(g.reply.type, 'ack', JSON.stringify(g.reply));
    const grantedEv = g.events.find((e) => e.name === 'floor_granted');
    const { started_at: startedAt, limit_s: limit } = grantedEv.data.floor;
    assert.equal(limit, 2);
    const tu = await Promise.all(s.all.map((x) => x.c.waitEvent('time_up', () => true, 6000)));
    const received = Date.now();
    for (const e of tu) {
      assert.equal(e.seq, tu[0].seq);
      assert.equal(e.data.sub, 'fr');
      assert.equal(e.state.floor.time_up, true);
    }
    const late = tu[0].ts - (startedAt + limit * 1000);
    assert.ok(late >= 0 && late <= 1000, `time_up ${late} ms after the limit (server ts)`);
    assert.ok(received - (startedAt + limit * 1000) <= 1500, `time_up received ${received - startedAt - limit * 1000} ms after the limit`);
    // Time is the point here: give the other nodes' clocks every chance to fire too.
    await sleep(2500);
    const r = await act(s.m.c, { type: 'announce', text: 'barrier' });
    await Promise.all(s.all.map((x) => waitSeq(x.c, r.reply.seq)));
    for (const x of s.all) {
      assert.equal(named(x.c, 'time_up').length, 1, `${x.w.you.sub}: time_up events ${JSON.stringify(named(x.c, 'time_up'))}`);
      assert.deepEqual(x.c.seqErrors, []);
    }
    assert.equal(r.reply.seq, tu[0].seq + 1, 'another event between time_up and the barrier');
    const st = s.all.map((x) => agreed(stateOf(x.c, x.w)));
    for (const v of st) assert.equal(v, st[0]);
    assert.equal(stateOf(s.m.c, s.m.w).floor.sub, 'fr', 'notify keeps the floor');
    for (const x of s.all) x.c.close();
  }));
}

test('speech_s 2, on_time_up end: exactly one floor_ended reason time on every node', withLogs(() => cl, async () => {
  for (let round = 0; round < 2; round++) {
    const s = await setup('end');
    await requested(s);
    const g = await act(s.m.c, { type: 'grant' });
    assert.equal(g.reply.type, 'ack', JSON.stringify(g.reply));
    const { started_at: startedAt } = g.events.find((e) => e.name === 'floor_granted').data.floor;
    const ends = await Promise.all(s.all.map((x) => x.c.waitEvent('floor_ended', () => true, 6000)));
    for (const e of ends) {
      assert.equal(e.seq, ends[0].seq);
      assert.equal(e.data.reason, 'time');
      assert.equal(e.data.sub, 'fr');
      assert.equal(e.state.floor, null);
    }
    const late = ends[0].ts - (startedAt + 2000);
    assert.ok(late >= 0 && late <= 1000, `floor_ended ${late} ms after the limit`);
    assert.ok(ends[0].data.spoken_ms >= 2000 && ends[0].data.spoken_ms <= 3000, `spoken_ms ${ends[0].data.spoken_ms}`);
    await sleep(2500);
    const r = await act(s.m.c, { type: 'announce', text: 'barrier' });
    await Promise.all(s.all.map((x) => waitSeq(x.c, r.reply.seq)));
    for (const x of s.all) {
      assert.equal(named(x.c, 'floor_ended').length, 1, `${x.w.you.sub}: ${JSON.stringify(named(x.c, 'floor_ended'))}`);
      assert.ok(named(x.c, 'time_up').length <= 1);
      assert.deepEqual(x.c.seqErrors, []);
      assert.equal(stateOf(x.c, x.w).floor, null);
    }
    for (const x of s.all) x.c.close();
  }
}));

test('a paused floor gets no time_up from any node; resumed, it gets one', withLogs(() => cl, async () => {
  const s = await setup('notify');
  await requested(s);
  const g = await act(s.m.c, { type: 'grant' });
  assert.equal(g.reply.type, 'ack');
  const p = await act(s.m.c, { type: 'pause' });
  assert.equal(p.reply.type, 'ack', JSON.stringify(p.reply));
  await sleep(3000); // time is the point: past the limit while paused
  assert.equal(s.all.reduce((n, x) => n + named(x.c, 'time_up').length, 0), 0, 'time_up while paused');
  const r = await act(s.m.c, { type: 'resume' });
  assert.equal(r.reply.type, 'ack');
  const elapsed = r.events.find((e) => e.name === 'timer_resumed').state.floor.elapsed_ms;
  const tu = await Promise.all(s.all.map((x) => x.c.waitEvent('time_up', () => true, 6000)));
  const resumedAt = r.events[0].state.floor.started_at;
  const late = tu[0].ts - (resumedAt + 2000 - elapsed);
  assert.ok(late >= 0 && late <= 1000, `time_up ${late} ms after the limit`);
  await sleep(1500);
  const b = await act(s.m.c, { type: 'announce', text: 'barrier' });
  await Promise.all(s.all.map((x) => waitSeq(x.c, b.reply.seq)));
  for (const x of s.all) assert.equal(named(x.c, 'time_up').length, 1);
  for (const x of s.all) x.c.close();
}));

// Last in this file: it kills n1.
test('the node that granted the floor is killed (-9) right after: the others still send exactly one time_up', withLogs(() => cl, async () => {
  const s = await setup('notify');
  await requested(s);
  const g = await act(s.m.c, { type: 'grant' }); // the chair is on n1
  assert.equal(g.reply.type, 'ack', JSON.stringify(g.reply));
  const { started_at: startedAt } = g.events.find((e) => e.name === 'floor_granted').data.floor;
  await cl.kill9(cl.nodes[0]);
  const survivors = [s.d, s.o, s.d3];
  const tu = await Promise.all(survivors.map((x) => x.c.waitEvent('time_up', () => true, 6000)));
  for (const e of tu) assert.equal(e.seq, g.reply.seq + 1);
  const late = tu[0].ts - (startedAt + 2000);
  assert.ok(late >= 0 && late <= 1000, `time_up ${late} ms after the limit`);
  await new Promise((r) => setTimeout(r, 2500)); // time is the point: no second one
  const b = await act(s.d.c, { type: 'say', text: 'barrier' });
  assert.equal(b.reply.type, 'ack', JSON.stringify(b.reply));
  await Promise.all(survivors.map((x) => waitSeq(x.c, b.reply.seq)));
  for (const x of survivors) {
    assert.equal(named(x.c, 'time_up').length, 1);
    assert.deepEqual(x.c.seqErrors, []);
  }
  assert.equal(b.reply.seq, g.reply.seq + 2);
  for (const x of survivors) x.c.close();
}));
