// KNOWN PROBLEM (test engineer, for the lead; server at 3857cce):
// The first welcome on a node that did not yet hold the room lists the
// participants connected to OTHER nodes as online:false, connections:0, and
// no presence message corrects it later (checked 1.5 s after: nothing). A
// second join on the same node lists them online. Repro: room; moderator
// "pa" joins on n1; delegate "pb" joins on n2 -> pb's welcome.participants
// has pa online:false (deterministic, 8/8).
// Contract sections 3 (welcome.participants, observers) and 4 (presence)
// with section 6: presence across nodes, observer counts summed over
// nodes, and a node killed with SIGKILL forgotten within 30 s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(3); });
after(async () => { await cl?.stop(); });

const presenceOf = (sub) => (m) => m.type === 'presence' && m.participant?.sub === sub;
const observers = (n) => (m) => m.type === 'presence' && m.observers === n;

test('welcome.participants and presence join/update/leave across nodes', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1);
  const a = await enter(n1, room.id, 'moderator', 'pa', { delegation: 'Bureau' });
  let at = a.c.mark();
  const b = await enter(n2, room.id, 'delegate', 'pb', { delegation: 'France' });
  // b's welcome lists a (on n1), online with one connection.
  const pa = b.w.participants.find((p) => p.sub === 'pa');
  assert.ok(pa, JSON.stringify(b.w.participants));
  assert.equal(pa.online, true);
  assert.equal(pa.connections, 1);
  assert.equal(pa.role, 'moderator');
  // a (on n1) gets presence join for b (on n2).
  const j = await a.c.waitFor(presenceOf('pb'), 5000, at);
  assert.equal(j.action, 'join');
  assert.equal(j.participant.online, true);
  assert.equal(j.participant.connections, 1);
  assert.equal(j.participant.delegation, 'France');
  // A second connection of b on n3: update with connections 2, seen on n1 and n2.
  at = a.c.mark();
  const b2 = await enter(n3, room.id, 'delegate', 'pb', { delegation: 'France' });
  assert.equal(b2.w.you.connections, 2);
  assert.equal(b2.w.participants.find((p) => p.sub === 'pa').online, true);
  const u = await a.c.waitFor(presenceOf('pb'), 5000, at);
  assert.equal(u.action, 'update');
  assert.equal(u.participant.connections, 2);
  // c on n3 sees both, online.
  const c = await enter(n3, room.id, 'delegate', 'pc');
  const byId = Object.fromEntries(c.w.participants.map((p) => [p.sub, p]));
  assert.deepEqual([byId.pa?.online, byId.pb?.online, byId.pb?.connections], [true, true, 2]);
  // b's connection on n2 closes: update (connections 1), not leave.
  at = a.c.mark();
  b.c.close();
  const u2 = await a.c.waitFor(presenceOf('pb'), 5000, at);
  assert.equal(u2.action, 'update', JSON.stringify(u2));
  assert.equal(u2.participant.connections, 1);
  // b's last connection (n3) closes: leave on n1 and on n3.
  at = a.c.mark();
  const atc = c.c.mark();
  b2.c.close();
  // A node may hear of the two closes in either order (an update with one
  // connection first): what matters is that leave comes, on every node.
  const isLeave = (m) => presenceOf('pb')(m) && m.action === 'leave';
  const l = await a.c.waitFor(isLeave, 5000, at);
  assert.equal(l.participant.online, false);
  assert.equal(l.participant.connections, 0);
  assert.equal((await c.c.waitFor(isLeave, 5000, atc)).participant.connections, 0);
  // A later welcome on n2 lists b offline.
  const d = await enter(n2, room.id, 'delegate', 'pd');
  const pb = d.w.participants.find((p) => p.sub === 'pb');
  assert.equal(pb.online, false);
  assert.equal(pb.connections, 0);
  for (const x of [a, c, d]) x.c.close();
}));

test('observer counts are summed across nodes (welcome and presence {observers})', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n2);
  const a = await enter(n1, room.id, 'moderator', 'oa');
  const at = a.c.mark();
  const obs = [];
  obs.push(await enter(n1, room.id, 'observer', 'o1'));
  obs.push(await enter(n2, room.id, 'observer', 'o2'));
  obs.push(await enter(n2, room.id, 'observer', 'o3'));
  obs.push(await enter(n3, room.id, 'observer', 'o4'));
  await a.c.waitFor(observers(4), 5000, at);
  for (const n of cl.nodes) {
    const w = await enter(n, room.id, 'delegate', `late-${n.id}`);
    assert.equal(w.w.observers, 4, `welcome on ${n.id}: observers ${w.w.observers}`);
    assert.ok(!w.w.participants.some((p) => p.sub.startsWith('o') && p.sub !== 'oa'), 'observers listed as participants');
    w.c.close();
  }
  const at2 = a.c.mark();
  obs[3].c.close();
  obs[1].c.close();
  await a.c.waitFor(observers(2), 5000, at2);
  for (const o of obs) o.c.close();
  a.c.close();
}));

// The kill -9 scenario: shared between the two tests below.
const kill = {};

test('kill -9 of a node: the survivors send presence leave for its participants within 30 s, observers recounted', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1, { settings: { speech_s: 600, pause_on_disconnect: true } });
  const a = await enter(n1, room.id, 'moderator', 'ka');
  const b = await enter(n2, room.id, 'delegate', 'kb');
  const c = await enter(n3, room.id, 'delegate', 'kc'); // dies with n3
  const e = await enter(n3, room.id, 'moderator', 'ke'); // dies with n3
  const o1 = await enter(n1, room.id, 'observer', 'ko1');
  const o3 = await enter(n3, room.id, 'observer', 'ko3'); // dies with n3
  const o3b = await enter(n3, room.id, 'observer', 'ko3b'); // dies with n3
  await a.c.waitFor(observers(3), 5000);
  // c (on n3) holds the floor when n3 dies.
  const rq = await act(c.c, { type: 'request_floor' });
  await waitSeq(a.c, rq.reply.seq);
  const g = await act(a.c, { type: 'grant' });
  assert.equal(g.reply.type, 'ack', JSON.stringify(g.reply));
  await Promise.all([a, b].map((x) => waitSeq(x.c, g.reply.seq)));
  kill.room = room; kill.a = a; kill.b = b; kill.grantSeq = g.reply.seq;
  const atA = a.c.mark();
  const atB = b.c.mark();
  kill.atA = atA;
  const t0 = Date.now();
  await cl.kill9(n3);
  kill.t0 = t0;
  const [la, lc] = await Promise.all([
    a.c.waitFor((m) => presenceOf('kc')(m) && m.action === 'leave', 30000, atA),
    a.c.waitFor((m) => presenceOf('ke')(m) && m.action === 'leave', 30000, atA),
  ]);
  const lb = await b.c.waitFor((m) => presenceOf('kc')(m) && m.action === 'leave', 30000 - (Date.now() - t0), atB);
  const took = Date.now() - t0;
  assert.ok(took <= 30000, `leave after ${took} ms`);
  assert.equal(la.participant.online, false);
  assert.equal(lc.participant.online, false);
  assert.equal(lb.participant.connections, 0);
  await a.c.waitFor(observers(1), 30000 - (Date.now() - t0), atA);
  // Exactly one leave per participant on each survivor.
  assert.equal(a.c.since(atA).filter((m) => presenceOf('kc')(m) && m.action === 'leave').length, 1);
  // A welcome on a survivor lists them offline and counts 1 observer.
  const w = await enter(n2, room.id, 'delegate', 'kw');
  const byId = Object.fromEntries(w.w.participants.map((p) => [p.sub, p]));
  assert.equal(byId.kc.online, false);
  assert.equal(byId.kc.connections, 0);
  assert.equal(byId.ke.online, false);
  assert.equal(byId.ka.online, true);
  assert.equal(w.w.observers, 1);
  kill.w = w;
  // Clients on the dead node see their connection drop.
  for (const x of [c, e, o3, o3b]) await x.c.waitClose(5000);
  // Survivors go on: commands still work and are delivered.
  const r = await act(b.c, { type: 'request_floor' });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  await waitSeq(a.c, r.reply.seq);
  o1.c.close();
}));

test('kill -9 of the floor holder\'s node: with pause_on_disconnect the survivors pause the clock (timer_paused, actor null), once', withLogs(() => cl, async () => {
  assert.ok(kill.a, 'the kill -9 test did not get this far');
  const left = Math.max(1000, 30000 - (Date.now() - kill.t0));
  const p = await kill.a.c.waitEvent('timer_paused', () => true, left, kill.atA);
  assert.equal(p.actor, null);
  assert.equal(p.state.floor.paused, true);
  assert.equal(p.state.floor.sub, 'kc');
  const b = await act(kill.a.c, { type: 'announce', text: 'barrier' });
  await Promise.all([kill.a, kill.b].map((x) => waitSeq(x.c, b.reply.seq)));
  assert.equal(kill.a.c.eventsSince(kill.atA, 'timer_paused').length, 1);
  assert.deepEqual(kill.a.c.seqErrors, []);
  assert.deepEqual(kill.b.c.seqErrors, []);
}));

test('the killed node restarted with the same id serves the room again', withLogs(() => cl, async () => {
  assert.ok(kill.room, 'the kill -9 test did not get this far');
  const n3 = await cl.restart(cl.nodes[2]);
  const at = kill.a.c.mark();
  const c = await enter(n3, kill.room.id, 'delegate', 'kc', {}, {});
  assert.equal(c.w.seq, kill.a.c.lastSeq);
  assert.equal(c.w.room.floor?.sub, 'kc');
  const j = await kill.a.c.waitFor(presenceOf('kc'), 5000, at);
  assert.equal(j.action, 'join');
  const r = await act(c.c, { type: 'say', text: 'back' });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  await waitSeq(kill.a.c, r.reply.seq);
  c.c.close();
  kill.a.c.close(); kill.b.c.close(); kill.w?.c.close();
}));
