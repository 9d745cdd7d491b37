// Chat across nodes (issue 10): three nodes on one Redis.
//   - Chat lines (say, announce without if_seq) are appended: lines of
//     several nodes sent at once never collide (rostrum_commit_conflicts_total
//     stays put, nothing is refused), and still every client sees one seq
//     order, consecutive, acks after their own events (contract section 6).
//   - An append is refused (and the line decided again) when an event that
//     changed what the line read was committed on another node meanwhile:
//     no line passes a mute, the chat rule "floor" (checked by replaying
//     the one history every client saw), nor the end of its sender's floor.
//     Each node's record has the same events and chain hashes (appended
//     lines renumbered in Redis carry none: every node computes them).
//   - Events that reach a node from Redis together reach each of its
//     connections in one write (rostrum_ws_writes_total beside
//     rostrum_frames_out_total).
// Every node runs with --command-burst 100 and --command-rate 1000 so that
// 60 commands sent at once by one connection, and the bursts of test 2,
// are not rate limited (contract 5: 20 a second, bursts of 40, by default).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newRoom, root } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, waitSeq, assertConsecutive, until, sleep, fire } from './lib.mjs';

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');

let cl;
before(async () => { cl = await startCluster(3, { args: ['--command-burst', '100', '--command-rate', '1000'] }); });
after(async () => { await cl?.stop(); });
// Each test's connections close when it ends, passed or failed, so that
// the next one starts with none (test 3 counts node 2's).
const clients = new Set();
afterEach(() => { for (const c of clients) c.close(); clients.clear(); });

// The value of an unlabelled metric on node.
async function metric(node, name) {
  const res = await node.api('GET', '/metrics');
  assert.equal(res.status, 200, `/metrics on ${node.id}`);
  const m = res.text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  assert.ok(m, `${name} not in /metrics of ${node.id}:\n${res.text}`);
  return Number(m[1]);
}
const metricAll = (name) => Promise.all(cl.nodes.map((n) => metric(n, name)));


// Sends every command of objs from p in one socket write (all in flight at
// once, the way a pipelining client sends them).
function pipelined(p, objs) {
  const sock = p.c.ws._socket;
  sock.cork();
  const out = objs.map((o) => fire(p, o));
  sock.uncork();
  return out;
}

// Read-your-writes (contract 2): an acknowledged say's event, its own
// message, came on the same connection before the ack.
function assertOwnEventFirst({ p, obj, reply, at }, what) {
  const ev = p.c.log.slice(p.from, at).find((m) => m.type === 'event' && m.seq === reply.seq);
  assert.ok(ev, `${what}: no event ${reply.seq} before the ack on ${p.w.you.sub}'s connection`);
  assert.equal(ev.name, 'message', `${what}: event ${reply.seq} is ${ev.name}`);
  assert.equal(ev.data.text, obj.text, `${what}: event ${reply.seq} is another message`);
  assert.equal(ev.data.from.sub, p.w.you.sub, what);
}

// Waits until every client has every event up to the highest seq any of
// them has seen, then checks that all saw one and the same history since
// their mark, consecutive; returns it.
async function oneHistory(all, what) {
  const top = Math.max(...all.map((x) => x.c.lastSeq || 0));
  await Promise.all(all.map((x) => waitSeq(x.c, top, 20000)));
  await Promise.all(all.map((x) => x.c.sync()));
  const ref = all[0].c.log.slice(all[0].from).filter((m) => m.type === 'event');
  assertConsecutive(ref, `${what}: ${all[0].w.you.sub}`);
  const refText = JSON.stringify(ref.map((e) => [e.seq, e.ts, e.name, e.actor, e.data]));
  for (const x of all) {
    assert.deepEqual(x.c.seqErrors, [], `${what}: ${x.w.you.sub} saw a gap or a duplicate`);
    const evs = x.c.log.slice(x.from).filter((m) => m.type === 'event');
    assert.equal(JSON.stringify(evs.map((e) => [e.seq, e.ts, e.name, e.actor, e.data])), refText,
      `${what}: ${x.w.you.sub} (on ${x.node}) saw another history than ${all[0].w.you.sub}`);
  }
  return ref;
}

// The record on every node: the same events as the clients saw, the same
// chain hashes everywhere (appended lines are renumbered in Redis and
// stored without a hash: each node computes it), and a chain that
// `rostrum record verify` accepts.
async function assertRecord(roomId, ref, what) {
  const heads = [];
  for (const n of cl.nodes) {
    const res = await n.api('GET', `/api/rooms/${roomId}/transcript?format=json`);
    assert.equal(res.status, 200, `${what}: transcript on ${n.id}: ${res.text.slice(0, 300)}`);
    const evs = res.json.events.filter((e) => e.seq >= ref[0].seq);
    assert.equal(JSON.stringify(evs.map((e) => [e.seq, e.ts, e.name, e.actor, e.data])),
      JSON.stringify(ref.map((e) => [e.seq, e.ts, e.name, e.actor, e.data])), `${what}: record on ${n.id}`);
    heads.push([n.id, res.json.chain.head, JSON.stringify(res.json.events.map((e) => e.hash))]);
    if (fs.existsSync(cli)) {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-chat-')), 'record.json');
      fs.writeFileSync(file, res.text);
      const v = spawnSync(cli, ['record', 'verify', file], { encoding: 'utf8' });
      assert.equal(v.status, 0, `${what}: rostrum record verify, record of ${n.id}: ${v.stdout}${v.stderr}`);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }
  for (const h of heads.slice(1)) {
    assert.equal(h[1], heads[0][1], `${what}: chain head on ${h[0]} differs from ${heads[0][0]}'s`);
    assert.equal(h[2], heads[0][2], `${what}: event hashes on ${h[0]} differ from ${heads[0][0]}'s`);
  }
}

async function member(node, roomId, role, sub) {
  const p = await enter(node, roomId, role, sub);
  clients.add(p.c);
  p.node = node.id;
  return p;
}

test('chat from three nodes at once never collides', withLogs(() => cl, async (t) => {
  const room = await newRoom(cl.nodes[0], { settings: { chat: 'open' } });
  const dels = [];
  for (const n of cl.nodes) for (let i = 0; i < 3; i++) dels.push(await member(n, room.id, 'delegate', `${n.id}-d${i}`));
  const obs = await member(cl.nodes[1], room.id, 'observer', 'obs');
  const all = [...dels, obs];
  for (const p of all) p.from = p.c.log.length;
  const before = await metricAll('rostrum_commit_conflicts_total');

  // 9 x 60 says, every one in flight at once (each delegate's 60 in one
  // write), every text different.
  const sent = [];
  for (const p of dels) {
    sent.push(...pipelined(p, Array.from({ length: 60 }, (_, i) => ({ type: 'say', text: `${p.w.you.sub} line ${i}` }))));
  }
  const res = await Promise.all(sent);
  for (const r of res) {
    const what = `${r.p.w.you.sub} ${JSON.stringify(r.obj)} -> ${JSON.stringify(r.reply)}`;
    assert.equal(r.reply.type, 'ack', what);
    assertOwnEventFirst(r, what);
  }
  const after = await metricAll('rostrum_commit_conflicts_total');
  assert.deepEqual(after, before, `rostrum_commit_conflicts_total rose (n1, n2, n3): before ${before}, after ${after}`);

  const ref = await oneHistory(all, 'chat from three nodes');
  assert.equal(ref.length, 540, `${ref.length} events, not 540`);
  assert.equal(ref[0].seq, dels[0].w.seq + 1);
  const texts = ref.map((e) => { assert.equal(e.name, 'message', `seq ${e.seq}`); return e.data.text; });
  assert.equal(new Set(texts).size, 540, 'a message twice');
  for (const r of res) assert.ok(texts.includes(r.obj.text), `"${r.obj.text}" is not in the history`);
  // Each delegate's lines in the order it sent them (one connection's
  // commands are decided in order).
  for (const p of dels) {
    const mine = texts.filter((x) => x.startsWith(`${p.w.you.sub} `));
    assert.deepEqual(mine, Array.from({ length: 60 }, (_, i) => `${p.w.you.sub} line ${i}`), `${p.w.you.sub}'s lines out of order`);
  }
  // The nodes' lines really interleaved in the seq order: serialized
  // traffic (one node after the other) would make 3 runs.
  const nodeOf = (e) => e.data.from.sub.split('-')[0];
  let runs = 1;
  for (let i = 1; i < ref.length; i++) if (nodeOf(ref[i]) !== nodeOf(ref[i - 1])) runs++;
  t.diagnostic(`runs of one node's lines in the seq order: ${runs}`);
  assert.ok(runs >= 6, `the nodes' lines alternate only ${runs - 1} times: the chat was not concurrent`);
  await assertRecord(room.id, ref, 'chat from three nodes');
}));

// Replays a history from a welcome's snapshot and checks that every chat
// message obeyed the rules as they were at its place in the seq order:
// nobody muted, chat "open" for delegates, or "floor" and the floor's
// holder (contract 5). Returns counts for diagnostics.
function replayChatRules(w, events, what) {
  const muted = new Set(w.room.muted);
  let chat = w.room.settings.chat;
  let floor = w.room.floor;
  const roles = new Map(w.participants.map((p) => [p.sub, p.role]));
  const seen = { muted: 0, unmuted: 0, settings: 0, messages: 0 };
  const bad = [];
  for (const e of events) {
    const at = `${what}: seq ${e.seq} ${e.name} ${JSON.stringify(e.data)}`;
    switch (e.name) {
      case 'participant_muted':
        muted.add(e.data.sub);
        assert.ok(e.state.muted.includes(e.data.sub), at);
        seen.muted++;
        break;
      case 'participant_unmuted':
        muted.delete(e.data.sub);
        assert.ok(!e.state.muted.includes(e.data.sub), at);
        seen.unmuted++;
        break;
      case 'settings_changed':
        chat = e.state.settings.chat;
        if (e.data.settings && 'chat' in e.data.settings) assert.equal(e.data.settings.chat, chat, at);
        seen.settings++;
        break;
      case 'role_changed':
        roles.set(e.data.sub, e.data.role);
        break;
      case 'message': {
        seen.messages++;
        if (e.data.kind !== 'chat') break;
        const sub = e.data.from.sub;
        if (muted.has(sub)) bad.push(`${at}: a message from ${sub} while muted (muted: ${[...muted]})`);
        if ((roles.get(sub) || e.data.from.role) !== 'moderator' &&
            !(chat === 'open' || (chat === 'floor' && floor && floor.sub === sub))) {
          bad.push(`${at}: a message from ${sub} while the chat rule is "${chat}" (floor: ${floor ? floor.sub : null})`);
        }
        break;
      }
      default:
        break;
    }
    if (e.state && 'floor' in e.state) floor = e.state.floor;
  }
  assert.deepEqual(bad, [], `${what}: ${bad.length} chat lines broke the rules in force at their seq`);
  return seen;
}

test('a chat line never passes a mute committed on another node', withLogs(() => cl, async (t) => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1, { settings: { chat: 'open', speech_s: 600 } });
  const chair = await member(n1, room.id, 'moderator', 'chair');
  const d = await member(n2, room.id, 'delegate', 'dm');
  const d2 = await member(n3, room.id, 'delegate', 'df');
  const obs = await member(n2, room.id, 'observer', 'obs');
  const all = [obs, chair, d, d2];
  for (const p of all) p.from = p.c.log.length;
  const before = await metricAll('rostrum_commit_conflicts_total');
  const ROUNDS = 25;
  const results = [];
  let k = 0;
  const says = (p, n) => Array.from({ length: n }, () => ({ type: 'say', text: `${p.w.you.sub} ${++k}` }));
  // One step: the chair's command and the delegates' lines, all in flight
  // at once; the chair's frame goes first in even rounds, last in odd ones
  // (which one reaches Redis first is the race).
  const step = async (round, cmd, lines) => {
    const c = () => [fire(chair, cmd)];
    const l = () => lines.flatMap(([p, n]) => pipelined(p, says(p, n)));
    const out = round % 2 ? [...l(), ...c()] : [...c(), ...l()];
    const res = await Promise.all(out);
    for (const r of res) r.round = round;
    results.push(...res);
  };
  for (let round = 0; round < ROUNDS; round++) {
    // chat open: the mute races dm's lines (and df's)
    await step(round, { type: 'mute', sub: 'dm' }, [[d, 5], [d2, 2]]);
    await step(round, { type: 'unmute', sub: 'dm' }, [[d, 3]]);
    // the chat rule "floor" (nobody holds the floor) races df's lines
    await step(round, { type: 'update_settings', settings: { chat: 'floor' } }, [[d2, 5], [d, 1]]);
    await step(round, { type: 'update_settings', settings: { chat: 'open' } }, [[d2, 3]]);
  }

  const count = { ack: 0, muted: 0, forbidden: 0 };
  for (const r of results) {
    const what = `round ${r.round}: ${r.p.w.you.sub} ${JSON.stringify(r.obj)} -> ${JSON.stringify(r.reply)}`;
    if (r.p === chair) {
      assert.equal(r.reply.type, 'ack', what);
      continue;
    }
    if (r.reply.type === 'error') {
      // never "the room is too busy right now; retry", never unavailable
      const allowed = r.p === d ? ['muted', 'forbidden'] : ['forbidden'];
      assert.ok(allowed.includes(r.reply.code), what);
      count[r.reply.code]++;
      continue;
    }
    count.ack++;
    assertOwnEventFirst(r, what);
  }
  const after = await metricAll('rostrum_commit_conflicts_total');
  const redecided = after.map((v, i) => v - before[i]);
  t.diagnostic(`says acked ${count.ack}, refused muted ${count.muted}, forbidden ${count.forbidden}; conflicts n1..n3 ${redecided}`);
  // The races happened both ways: lines got through, and lines were refused.
  assert.ok(count.ack > 0 && count.muted > 0 && count.forbidden > 0, JSON.stringify(count));
  // The chair (alone on n1) reads the room's state, which chat lines do not
  // change: other nodes' chat never made its commands decide again. (The
  // delegates' lines on n2 and n3 do, when a mute or a rule came first:
  // that is the order being kept.)
  assert.equal(redecided[0], 0, `the chair's commands on n1 were refused by the seq check ${redecided[0]} times`);

  const ref = await oneHistory(all, 'mutes and chat rules');
  const seen = replayChatRules(obs.w, ref, 'mutes and chat rules');
  assert.equal(seen.muted, ROUNDS);
  assert.equal(seen.unmuted, ROUNDS);
  assert.equal(seen.settings, 2 * ROUNDS);
  // Exactly the acknowledged lines are in the history, each once.
  const texts = ref.filter((e) => e.name === 'message').map((e) => e.data.text);
  assert.equal(new Set(texts).size, texts.length, 'a message twice');
  const acked = results.filter((r) => r.p !== chair && r.reply.type === 'ack').map((r) => r.obj.text).sort();
  assert.deepEqual([...texts].sort(), acked, 'the history\'s messages are not exactly the acknowledged lines');
  await assertRecord(room.id, ref, 'mutes and chat rules');
}));

test('events that arrive together from Redis reach a connection in one write', withLogs(() => cl, async (t) => {
  const [n1, n2] = cl.nodes;
  const room = await newRoom(n1, { settings: { chat: 'open' } });
  const d = await member(n1, room.id, 'delegate', 'talker');
  // The earlier tests' connections on node 2 are gone: the observer is
  // alone there.
  await until(async () => await metric(n2, 'rostrum_connections') === 0, 10000, 'node 2 without connections');
  const o = await member(n2, room.id, 'observer', 'watcher');
  assert.equal(await metric(n2, 'rostrum_connections'), 1);
  // Let presence settle (observer counts go out at most once a second),
  // then a barrier: nothing more is queued for the observer.
  await sleep(1500);
  await o.c.sync();
  const [f0, w0] = [await metric(n2, 'rostrum_frames_out_total'), await metric(n2, 'rostrum_ws_writes_total')];
  const mark = o.c.mark();
  d.from = d.c.log.length;
  const res = await Promise.all(pipelined(d, Array.from({ length: 40 }, (_, i) => ({ type: 'say', text: `pipelined ${i}` }))));
  for (const r of res) {
    assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
    assertOwnEventFirst(r, `pipelined say ${r.obj.text}`);
  }
  const top = Math.max(...res.map((r) => r.reply.seq));
  await waitSeq(o.c, top);
  const [f1, w1] = [await metric(n2, 'rostrum_frames_out_total'), await metric(n2, 'rostrum_ws_writes_total')];
  assert.equal(await metric(n2, 'rostrum_connections'), 1, 'another connection on node 2 during the measurement');
  const evs = o.c.eventsSince(mark);
  assert.equal(evs.length, 40, JSON.stringify(evs.map((e) => e.seq)));
  assertConsecutive(evs, 'the observer on node 2');
  assert.deepEqual(evs.map((e) => e.data.text), Array.from({ length: 40 }, (_, i) => `pipelined ${i}`));
  const frames = f1 - f0;
  const writes = w1 - w0;
  t.diagnostic(`node 2: ${frames} frames in ${writes} writes`);
  assert.ok(frames >= 40, `node 2 queued ${frames} frames for 40 events`);
  assert.ok(writes <= 10, `node 2 wrote ${frames} frames in ${writes} socket writes: events that came from Redis together were not coalesced`);
}));

test('under the chat rule "floor" a chat line never passes the end of its sender\'s floor', withLogs(() => cl, async (t) => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1, { settings: { chat: 'floor', speech_s: 600 } });
  const chair = await member(n1, room.id, 'moderator', 'chair');
  const fh = await member(n3, room.id, 'delegate', 'fh');
  const other = await member(n2, room.id, 'delegate', 'other');
  const obs = await member(n2, room.id, 'observer', 'obs');
  const all = [obs, chair, fh, other];
  for (const p of all) p.from = p.c.log.length;
  const ROUNDS = 25;
  const results = [];
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [p, cmd] of [[fh, { type: 'request_floor' }], [chair, { type: 'grant', sub: 'fh' }]]) {
      const r = await fire(p, cmd);
      assert.equal(r.reply.type, 'ack', `round ${round}: ${JSON.stringify(cmd)} -> ${JSON.stringify(r.reply)}`);
    }
    // The floor ends on node 1 (ended by the chair, or superseded by
    // another's) while fh's lines, decided on node 3, are in flight.
    const cmd = round % 2 ? { type: 'grant', sub: 'other' } : { type: 'end_floor' };
    const c = () => [fire(chair, cmd)];
    const l = () => pipelined(fh, Array.from({ length: 5 }, () => ({ type: 'say', text: `fh ${++k}` })));
    const res = await Promise.all(round % 4 < 2 ? [...c(), ...l()] : [...l(), ...c()]);
    for (const r of res) r.round = round;
    results.push(...res);
  }
  const count = { ack: 0, forbidden: 0 };
  for (const r of results) {
    const what = `round ${r.round}: ${r.p.w.you.sub} ${JSON.stringify(r.obj)} -> ${JSON.stringify(r.reply)}`;
    if (r.p === chair) {
      assert.equal(r.reply.type, 'ack', what);
    } else if (r.reply.type === 'error') {
      assert.equal(r.reply.code, 'forbidden', what);
      count.forbidden++;
    } else {
      count.ack++;
      assertOwnEventFirst(r, what);
    }
  }
  t.diagnostic(`says acked ${count.ack}, refused forbidden ${count.forbidden}`);
  assert.ok(count.ack > 0 && count.forbidden > 0, JSON.stringify(count));
  const ref = await oneHistory(all, 'chat rule floor');
  replayChatRules(obs.w, ref, 'chat rule floor');
  const texts = ref.filter((e) => e.name === 'message').map((e) => e.data.text).sort();
  assert.deepEqual(texts, results.filter((r) => r.p === fh && r.reply.type === 'ack').map((r) => r.obj.text).sort());
}));
