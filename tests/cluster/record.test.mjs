// Contract sections 9.4-9.6 across nodes: a statement deposited on one
// node is read on another and published there when the floor ends; no
// frame of any node carries it before; it survives the node that took it
// being killed; every node's record has the same chain; the conclusions
// quote the chain head wherever they are published.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { newRoom, root } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, waitHealth, until } from './lib.mjs';

let cl;
let cl2;
before(async () => { cl = await startCluster(2); });
after(async () => { await cl?.stop(); await cl2?.stop(); });

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');

const SECRET = 'CLUSTER-EMBARGO-91b2: the delegation of Brazil';

let askc = 0;
async function ask(c, obj) {
  const id = `q${++askc}`;
  const at = c.mark();
  c.send({ ...obj, id });
  return c.waitFor((m) => (m.type === 'statement' || m.type === 'error') && m.id === id, 8000, at);
}

test('a statement deposited on one node: read and published on the other, embargoed on both until then, kept when its node dies', withLogs(() => cl, async () => {
  let [n1, n2] = cl.nodes;
  const room = await newRoom(n1, { settings: { speech_s: 600, pause_on_disconnect: false } });
  const br = await enter(n1, room.id, 'delegate', 'br', { delegation: 'Brazil', name: 'Embaixadora' });
  const m = await enter(n2, room.id, 'moderator', 'chair', { name: 'The Chair' });
  const obs1 = await enter(n1, room.id, 'observer', 'o1');
  const obs2 = await enter(n2, room.id, 'observer', 'o2');
  const interp = await enter(n2, room.id, 'interpreter', 'int-pt', { name: 'Intérprete' });
  const req = await act(br.c, { type: 'request_floor', lang: 'pt' });
  assert.equal(req.reply.type, 'ack');
  const rid = req.events.find((e) => e.seq === req.reply.seq).data.request.id;
  const dep = await act(br.c, { type: 'deposit_statement', request_id: rid, text: SECRET });
  assert.equal(dep.reply.type, 'ack', JSON.stringify(dep.reply));
  for (const x of [m, obs1, obs2, interp]) await waitSeq(x.c, dep.reply.seq);
  // read on the other node right away
  const got = await ask(interp.c, { type: 'get_statement', request_id: rid });
  assert.equal(got.type, 'statement', JSON.stringify(got));
  assert.equal(got.text, SECRET);
  assert.equal((await ask(obs2.c, { type: 'get_statement', request_id: rid })).code, 'forbidden');
  // the node that took the deposit dies; a new one reads it from Redis
  await cl.kill9(n1);
  n1 = await cl.restart(n1);
  const m1 = await enter(n1, room.id, 'moderator', 'chair', { name: 'The Chair' });
  assert.equal((await ask(m1.c, { type: 'get_statement', request_id: rid })).text, SECRET);
  // before publication: nothing on any node's wire, welcome, admin view or record
  const fresh = await enter(n1, room.id, 'observer', 'o3');
  for (const [what, s] of [['n2 observer', JSON.stringify(obs2.c.log)], ['n1 welcome', JSON.stringify(fresh.w)],
    ['n2 interpreter (but its own reply)', JSON.stringify(interp.c.log.filter((x) => x.type !== 'statement'))],
    ['n1 admin view', (await n1.api('GET', `/api/rooms/${room.id}`)).text],
    ['n2 record', (await n2.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).text],
    ['n1 log', n1.log], ['n2 log', n2.log]]) {
    assert.ok(!s.includes('CLUSTER-EMBARGO'), `${what} holds the embargoed text`);
  }
  // granted on n2, ended on n1: published right after floor_ended, everywhere
  const g = await act(m.c, { type: 'grant', request_id: rid });
  assert.equal(g.reply.type, 'ack');
  await waitSeq(m1.c, g.reply.seq);
  const end = await act(m1.c, { type: 'end_floor' });
  const mine = end.events.filter((e) => e.seq > g.reply.seq);
  assert.deepEqual(mine.map((e) => e.name), ['floor_ended', 'statement_published']);
  assert.equal(mine[1].data.text, SECRET);
  await waitSeq(obs2.c, end.reply.seq);
  assert.equal(obs2.c.log.find((x) => x.name === 'statement_published').data.text, SECRET);

  // conclusions on n2 quote the chain head both nodes' records agree on
  const before2 = (await n2.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).json;
  const c = await act(m.c, { type: 'publish_conclusions', text: 'The Chair concluded.' });
  assert.equal(c.reply.type, 'ack', JSON.stringify(c.reply));
  const ev = c.events.find((e) => e.name === 'conclusions_published');
  assert.equal(ev.data.record_hash, before2.chain.head);
  await waitSeq(m1.c, c.reply.seq);
  const r1 = (await n1.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).json;
  const r2 = (await n2.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).json;
  assert.deepEqual(r1.events.map((e) => e.hash), r2.events.map((e) => e.hash));
  assert.equal(r1.chain.head, r2.chain.head);
  assert.equal(r1.events.at(-2).hash, ev.data.record_hash);
  for (const x of [br, m, obs1, obs2, interp, m1, fresh]) x.c.close();
}));

test('attendance across nodes: one first join, the last leave on any node, the observers\' peak over all nodes', withLogs(() => cl, async () => {
  const [n1, n2] = cl.nodes;
  const room = await newRoom(n1, {});
  const m = await enter(n1, room.id, 'moderator', 'chair', { name: 'The Chair' });
  const fr1 = await enter(n1, room.id, 'delegate', 'fr', { delegation: 'France' });
  const obs = [];
  obs.push(await enter(n1, room.id, 'observer', 'o1'));
  obs.push(await enter(n2, room.id, 'observer', 'o2'));
  obs.push(await enter(n2, room.id, 'observer', 'o3'));
  const fr2 = await enter(n2, room.id, 'delegate', 'fr', { delegation: 'France' });
  const rec = async (node) => (await node.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).json.attendance;
  const wait = async (fn, what) => {
    const end = Date.now() + 8000;
    for (;;) { const v = await fn(); if (v) return v; if (Date.now() > end) throw new Error(`never: ${what}`); await new Promise((r) => setTimeout(r, 100)); }
  };
  // the peak counts both nodes' observers
  await wait(async () => (await rec(n1)).observers_peak === 3 && (await rec(n2)).observers_peak === 3, 'peak 3 on both nodes');
  // fr leaves n1 but is still on n2: still connected
  fr1.c.close();
  await new Promise((r) => setTimeout(r, 500));
  for (const node of [n1, n2]) assert.equal((await rec(node)).participants.find((p) => p.sub === 'fr').last_left_at, null);
  // and leaves n2: left, on both nodes' records
  fr2.c.close();
  const a = await wait(async () => {
    const x = await rec(n1);
    const y = await rec(n2);
    const f1 = x.participants.find((p) => p.sub === 'fr');
    const f2 = y.participants.find((p) => p.sub === 'fr');
    return f1.last_left_at && f2.last_left_at ? [f1, f2] : null;
  }, 'fr left on both');
  assert.ok(Math.abs(a[0].first_joined_at - a[1].first_joined_at) < 1000, JSON.stringify(a));
  assert.ok(Math.abs(a[0].last_left_at - a[1].last_left_at) < 1000, JSON.stringify(a));
  for (const x of [m, ...obs]) x.c.close();
}));

test('Redis restarted without its data: the room starts again under a new epoch and its record says the chain restarted', withLogs(() => cl2, async () => {
  cl2 = await startCluster(1, { persist: false });
  const [n1] = cl2.nodes;
  const room = await newRoom(n1, {});
  const m = await enter(n1, room.id, 'moderator', 'chair', { name: 'The Chair' });
  for (let i = 0; i < 3; i++) await act(m.c, { type: 'announce', text: `old ${i}` });
  const oldEpoch = m.w.epoch;
  await cl2.redis.kill();
  await waitHealth(n1, 503, 10000);
  await cl2.redis.start();
  await waitHealth(n1, 200, 15000);
  const w = await until(async () => {
    const x = await enter(n1, room.id, 'observer', `probe-${Date.now()}`).catch(() => null);
    x?.c.close();
    return x && x.w.epoch !== oldEpoch ? x : null;
  }, 15000, 'the room under a new epoch');
  const m2 = await enter(n1, room.id, 'moderator', 'chair', { name: 'The Chair' });
  await act(m2.c, { type: 'announce', text: 'new 0' });
  const res = await n1.api('GET', `/api/rooms/${room.id}/transcript?format=json`);
  const j = res.json;
  assert.equal(j.chain.epoch, w.w.epoch);
  assert.equal(j.chain.restarted_after, oldEpoch);
  assert.ok(j.events.length >= 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-reseed-'));
  fs.writeFileSync(path.join(dir, 'r.json'), res.text);
  const v = spawnSync(cli, ['record', 'verify', path.join(dir, 'r.json')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const md = (await n1.api('GET', `/api/rooms/${room.id}/transcript?format=md`)).text;
  assert.ok(md.includes(`earlier history \`${oldEpoch}\` were lost`), md.slice(-1200));
  m.c.close();
  m2.c.close();
}));
