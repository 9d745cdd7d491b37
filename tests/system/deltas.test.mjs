// Contract section 10: the delta form of events. A connection that joins
// with "deltas": true gets queue_ops/queue_len/queue_hash and stats_ops
// instead of the whole queue and stats; everything else is the same.
// Checked over real sockets against a full-state client in the same room,
// after every event of long random meetings, live and in welcomes and
// resumes; with ROSTRUM_TEST_BACKEND=redis the delta clients sit on a
// second node, so that the events they get were committed elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, startRedis, redisMode, enter, act, join, claims, sleep, stopChecked } from '../lib/harness.mjs';
import { root } from '../lib/harness.mjs';

const { applyQueueOps, applyStatsOps, queueHash } = await import(pathToFileURL(path.join(root, 'clients', 'web', 'js', 'delta.js')).href);

const FAST = ['--command-rate', '5000', '--command-burst', '10000'];
let server; // where commands are sent
let other; // where the delta clients are (another node on Redis)
before(async () => {
  server = await startServer({ args: FAST });
  other = server;
  if (redisMode) {
    const r = await startRedis(server.dir);
    other = await startServer({ secret: server.secret, adminKey: server.adminKey, dataDir: false, args: [...FAST, '--redis', r.url] });
  }
});
after(async () => { if (other && other !== server) await stopChecked(other); if (server) await stopChecked(server); });

const hashOf = (q) => createHash('sha256').update(q.map((r) => r.id).join(',')).digest('hex').slice(0, 16);

// The part of a full event that a delta event must repeat exactly.
function withoutQueueStats(ev) {
  const st = { ...ev.state };
  delete st.queue; delete st.stats;
  return { ...ev, state: st };
}
function withoutOps(ev) {
  const st = { ...ev.state };
  for (const k of ['queue_ops', 'queue_len', 'queue_hash', 'stats_ops']) delete st[k];
  return { ...ev, state: st };
}

// Raw frame lengths of a client's messages, by type/seq.
function frameSizes(c) {
  const sizes = [];
  c.ws.on('message', (d) => { const m = JSON.parse(d.toString()); sizes.push({ type: m.type, seq: m.seq, name: m.name, bytes: d.length }); });
  return sizes;
}

async function roomOf(settings = {}) {
  const id = `d${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await server.api('POST', '/api/rooms', { id, title: 'Deltas', agenda: [{ id: 'q1', title: 'One' }, { id: 'q2', title: 'Two' }], settings: { replies_per_item: 100, ...settings } });
  assert.equal(res.status, 201, res.text);
  return id;
}

test('join with deltas: the welcome is the same, events carry ops, a hash and a length instead of queue and stats', async () => {
  const room = await roomOf();
  const chair = (await enter(server, room, 'moderator', 'chair')).c;
  const fr = (await enter(server, room, 'delegate', 'fr', { delegation: 'France' })).c;
  const de = (await enter(server, room, 'delegate', 'de', { delegation: 'Germany' })).c;
  await act(fr, { type: 'request_floor' });
  const full = await enter(other, room, 'observer', 'o-full');
  const delta = await enter(other, room, 'observer', 'o-delta', {}, { deltas: true });
  // The welcome: everything but "you" and the events the same; the room
  // snapshot whole.
  const strip = (w) => ({ ...w, you: null, events: null, observers: null });
  assert.deepEqual(strip(delta.w), strip(full.w));
  assert.equal(delta.w.room.queue.length, 1);
  assert.equal(delta.w.events.length, full.w.events.length);
  for (let i = 0; i < full.w.events.length; i++) {
    const f = full.w.events[i]; const d = delta.w.events[i];
    assert.deepEqual(withoutOps(d), withoutQueueStats(f));
    if (f.state.queue) {
      assert.equal(d.state.queue_len, f.state.queue.length);
      assert.equal(d.state.queue_hash, hashOf(f.state.queue));
    }
  }
  const { events } = await act(de, { type: 'request_floor', kind: 'reply' });
  const ev = events.at(-1);
  const fe = await full.c.waitEvent('floor_requested', (e) => e.seq === ev.seq);
  const de2 = await delta.c.waitEvent('floor_requested', (e) => e.seq === ev.seq);
  assert.deepEqual(fe, ev);
  assert.deepEqual(Object.keys(de2.state).sort(), ['queue_hash', 'queue_len', 'queue_ops']);
  assert.deepEqual(de2.state.queue_ops, [{ op: 'insert', at: 1, request: ev.data.request }]);
  assert.equal(de2.state.queue_len, 2);
  assert.equal(de2.state.queue_hash, hashOf(fe.state.queue));
  assert.deepEqual(withoutOps(de2), withoutQueueStats(fe));
  // A floor that ends: stats_ops with the speaker's entry only.
  const { events: g } = await act(chair, { type: 'grant' });
  assert.equal(g.at(-1).name, 'floor_granted');
  const dg = await delta.c.waitEvent('floor_granted');
  assert.deepEqual(dg.state.queue_ops, [{ op: 'remove', id: fe.state.queue[0].id }]);
  assert.ok(dg.state.floor && dg.state.floor.sub === 'fr');
  await sleep(30);
  await act(fr, { type: 'yield' });
  const fEnd = await full.c.waitEvent('floor_ended');
  const dEnd = await delta.c.waitEvent('floor_ended');
  assert.deepEqual(Object.keys(dEnd.state).sort(), ['floor', 'stats_ops']);
  assert.deepEqual(dEnd.state.stats_ops, { fr: fEnd.state.stats.fr });
  assert.equal(dEnd.state.floor, null);
  // An event that changes neither part is the same in both forms.
  await act(chair, { type: 'say', text: 'hello' });
  assert.deepEqual(await delta.c.waitEvent('message'), await full.c.waitEvent('message'));
  // deltas must be a boolean: a join that is not valid is refused like
  // any first frame that is not a join (4401), with the reason.
  const bad = await join(other, claims(room, 'observer', 'o-bad'), { deltas: 'yes' });
  assert.equal(bad.welcome.type, 'error');
  assert.match(bad.welcome.message, /deltas/);
  assert.equal((await bad.client.waitClose()).code, 4401);
  for (const c of [chair, fr, de, full.c, delta.c, bad.client]) c.close();
});

test('frame sizes: with 190 requests queued, a queue event in the delta form is under 1 KB', async (t) => {
  const room = await roomOf();
  const chair = (await enter(server, room, 'moderator', 'chair')).c;
  // 189 delegates ask and leave (their requests stay), one more stays.
  for (let i = 0; i < 189; i++) {
    const d = (await enter(server, room, 'delegate', `d${i}`, { name: `Delegate number ${i} of a long list`, delegation: `Delegation of the State number ${i}`, category: 'member_state' })).c;
    const r = await act(d, { type: 'request_floor', lang: 'fr' });
    assert.equal(r.reply.type, 'ack');
    d.close();
  }
  const last = (await enter(server, room, 'delegate', 'last', { name: 'The last delegate', delegation: 'The Last State', category: 'member_state' })).c;
  const full = await enter(other, room, 'observer', 'o-full');
  const delta = await enter(other, room, 'observer', 'o-delta', {}, { deltas: true });
  const fs = frameSizes(full.c); const ds = frameSizes(delta.c);
  const r = await act(last, { type: 'request_floor', lang: 'en' });
  const seq = r.reply.seq;
  const fev = await full.c.waitEvent('floor_requested', (e) => e.seq === seq);
  await delta.c.waitEvent('floor_requested', (e) => e.seq === seq);
  assert.equal(fev.state.queue.length, 190);
  const fb = fs.find((x) => x.seq === seq).bytes; const db = ds.find((x) => x.seq === seq).bytes;
  t.diagnostic(`floor_requested with 190 queued: full ${fb} bytes, delta ${db} bytes`);
  assert.ok(db < 1024, `delta floor_requested is ${db} bytes`);
  assert.ok(fb > 20 * db, `full ${fb} bytes, delta ${db}`);
  // The chair moves the last request to the front, then grants it: one op each.
  const rid = fev.data.request.id;
  await act(chair, { type: 'move', request_id: rid, to: 0 });
  const mv = await delta.c.waitEvent('request_moved');
  assert.deepEqual(mv.state.queue_ops, [{ op: 'move', id: rid, to: 0 }]);
  await act(chair, { type: 'grant' });
  const gr = await delta.c.waitEvent('floor_granted');
  assert.deepEqual(gr.state.queue_ops, [{ op: 'remove', id: rid }]);
  await sleep(50);
  for (const x of ds.filter((y) => y.type === 'event')) assert.ok(x.bytes < 1024, `${x.name} is ${x.bytes} bytes`);
  for (const c of [chair, last, full.c, delta.c]) c.close();
});

// xorshift: the same sequence every run (the seed is printed on failure).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % n; };
}

for (const seed of [7, 1234]) {
  test(`random meeting (seed ${seed}): after every event the delta client's queue and stats equal the full state`, { timeout: 120000 }, async () => {
    const rnd = rng(seed);
    const room = await roomOf({ speech_s: 3600 });
    const chair = (await enter(server, room, 'moderator', 'chair')).c;
    const subs = ['fr', 'de', 'it', 'es', 'pl', 'se', 'fi', 'pt'];
    const dels = {};
    for (const s of subs) dels[s] = (await enter(server, room, 'delegate', s, { delegation: s.toUpperCase(), category: 'member_state' })).c;
    const full = await enter(other, room, 'observer', 'o-full');
    const delta = await enter(other, room, 'observer', 'o-delta', {}, { deltas: true });
    let fq = full.w.room.queue; let fst = full.w.room.stats;
    let dq = delta.w.room.queue; let dst = delta.w.room.stats;
    const fullAt = new Map([[full.w.seq, { q: fq, st: fst }]]); // seq -> full state then
    let checked = 0;
    let doneSeq = full.w.seq;
    let removed = 0;
    const evs = (c, upTo) => c.log.filter((m) => m.type === 'event' && m.seq > doneSeq && m.seq <= upTo);
    const drain = async (upTo) => {
      await full.c.waitFor((m) => m.type === 'event' && m.seq >= upTo);
      await delta.c.waitFor((m) => m.type === 'event' && m.seq >= upTo);
      const fe = evs(full.c, upTo); const de = evs(delta.c, upTo);
      doneSeq = upTo;
      assert.deepEqual(de.map((e) => e.seq), fe.map((e) => e.seq));
      for (let i = 0; i < fe.length; i++) {
        const f = fe[i]; const d = de[i];
        assert.deepEqual(withoutOps(d), withoutQueueStats(f), `seq ${f.seq}`);
        if (f.state.queue) fq = f.state.queue;
        if (f.state.stats) fst = f.state.stats;
        if ('queue_ops' in d.state) {
          dq = applyQueueOps(dq, d.state.queue_ops);
          assert.ok(dq, `seq ${d.seq} ${d.name}: ops do not apply ${JSON.stringify(d.state.queue_ops)}`);
          assert.equal(d.state.queue_len, dq.length);
          assert.equal(d.state.queue_hash, hashOf(dq));
          assert.equal(queueHash(dq), d.state.queue_hash);
          assert.ok(JSON.stringify(d).length < 1024 || d.name === 'participant_removed', `${d.name} ${JSON.stringify(d).length} bytes`);
        }
        if ('stats_ops' in d.state) dst = applyStatsOps(dst, d.state.stats_ops);
        assert.deepEqual(dq, fq, `seq ${f.seq} ${f.name}: queue`);
        assert.deepEqual(dst, fst, `seq ${f.seq} ${f.name}: stats`);
        fullAt.set(f.seq, { q: fq, st: fst });
        checked++;
      }
    };
    const pickReq = () => (fq.length ? fq[rnd(fq.length)] : null);
    const alive = () => subs.filter((s) => dels[s]);
    let floorSub = null;
    for (let step = 0; step < 300; step++) {
      const a = rnd(100);
      const who = alive();
      let c; let cmd;
      if (a < 35 && who.length) { const s = who[rnd(who.length)]; c = dels[s]; cmd = { type: 'request_floor', kind: ['speech', 'speech', 'reply', 'point_of_order'][rnd(4)] }; }
      else if (a < 45 && fq.length) { const r = pickReq(); if (!dels[r.sub]) continue; c = dels[r.sub]; cmd = { type: 'withdraw', request_id: r.id }; }
      else if (a < 58 && fq.length) { c = chair; cmd = { type: 'move', request_id: pickReq().id, to: rnd(fq.length + 2) }; }
      else if (a < 68) { c = chair; const r = rnd(3); cmd = r === 0 || !fq.length ? { type: 'grant' } : r === 1 ? { type: 'grant', request_id: pickReq().id } : { type: 'grant', sub: pickReq().sub }; }
      else if (a < 75 && floorSub && dels[floorSub]) { c = dels[floorSub]; cmd = { type: 'yield' }; }
      else if (a < 80) { c = chair; cmd = { type: 'end_floor' }; }
      else if (a < 88 && fq.length) { c = chair; cmd = { type: 'remove_request', request_id: pickReq().id }; }
      else if (a < 90 && removed < 3 && who.length > 3) {
        const s = who[rnd(who.length)]; c = chair; cmd = { type: 'remove', sub: s };
        dels[s] = null; removed++;
      } else if (a < 95) { c = chair; cmd = { type: 'set_agenda_item', item: ['q1', 'q2'][rnd(2)] }; }
      else { c = chair; cmd = { type: 'say', text: `step ${step}` }; }
      if (!c) continue;
      if (step % 3 === 0) await sleep(5); // let floors gather some spoken time
      const r = await act(c, cmd);
      if (r.reply.type === 'ack' && r.events.length) {
        const last = r.events.at(-1);
        for (const e of r.events) {
          if (e.name === 'floor_granted') floorSub = e.data.floor.sub;
          if (e.name === 'floor_ended') floorSub = null;
        }
        await drain(last.seq);
      }
      if (step === 150) {
        // A resume in the middle: a new delta connection from seq k gets
        // the events after k in the delta form; applied to the full state
        // at k they give its snapshot.
        const seqs = [...fullAt.keys()].sort((x, y) => x - y);
        const k = seqs[Math.floor(seqs.length / 2)];
        const rs = await enter(other, room, 'observer', 'o-resume', {}, { deltas: true, since: k, epoch: delta.w.epoch });
        assert.equal(rs.w.resumed, true);
        let q = fullAt.get(k).q; let st = fullAt.get(k).st;
        assert.deepEqual(rs.w.events.map((e) => e.seq), Array.from({ length: rs.w.seq - k }, (_, i) => k + 1 + i));
        for (const e of rs.w.events) {
          if ('queue_ops' in e.state) { q = applyQueueOps(q, e.state.queue_ops); assert.equal(e.state.queue_hash, hashOf(q)); }
          if ('stats_ops' in e.state) st = applyStatsOps(st, e.state.stats_ops);
          assert.ok(!('queue' in e.state) && !('stats' in e.state));
        }
        assert.deepEqual(q, rs.w.room.queue);
        assert.deepEqual(st, rs.w.room.stats);
        // The welcome's events are those the live delta client got.
        const live = new Map(delta.c.log.filter((m) => m.type === 'event').map((m) => [m.seq, m]));
        for (const e of rs.w.events) assert.deepEqual(e, live.get(e.seq), `welcome event ${e.seq}`);
        rs.c.close();
      }
    }
    assert.ok(checked > 150, `only ${checked} events checked`);
    assert.deepEqual(delta.c.seqErrors, []);
    assert.deepEqual(full.c.seqErrors, []);
    for (const c of [chair, full.c, delta.c, ...Object.values(dels).filter(Boolean)]) c.close();
  });
}

test('the send-queue bound counts the bytes of the form each connection gets', { timeout: 120000 }, async () => {
  // 256 KiB per connection: a client that stops reading is cut once what
  // the server holds for it passes that. With 190 requests queued, each
  // move of the list is ~36 KB in the full form and ~100 bytes in the
  // delta form: the full-form reader that stalls is cut, the delta-form
  // one is not (its share fits in the socket's buffers).
  const small = await startServer({ dataDir: false, args: [...FAST, '--send-queue-bytes', '262144'] });
  const metric = async (re) => Number(((await small.api('GET', '/metrics')).text.match(re) || [0, 0])[1]);
  const id = `q${process.pid}`;
  assert.equal((await small.api('POST', '/api/rooms', { id, title: 'Queue', agenda: [] })).status, 201);
  // Everybody but the stalled full-form reader joins with deltas: a
  // full-form welcome here would carry the whole list once per recent
  // event (50 x 36 KB), past this bound by itself.
  const chair = (await enter(small, id, 'moderator', 'chair', {}, { deltas: true })).c;
  for (let i = 0; i < 190; i++) {
    const d = (await enter(small, id, 'delegate', `d${i}`, { name: `Delegate number ${i} of a long list`, delegation: `Delegation of the State number ${i}` }, { deltas: true })).c;
    assert.equal((await act(d, { type: 'request_floor' })).reply.type, 'ack');
    d.close();
  }
  // Each say's ack, not a ping: with Redis the pong may come back before
  // the says are committed, and a welcome with queue events among its 50
  // recent ones would pass the bound by itself.
  for (let i = 0; i < 50; i++) assert.equal((await act(chair, { type: 'say', text: `recent history ${i}` })).reply.type, 'ack');
  const full = await enter(small, id, 'observer', 'stall-full');
  const delta = await enter(small, id, 'observer', 'stall-delta', {}, { deltas: true });
  full.c.ws._socket.pause();
  delta.c.ws._socket.pause();
  const queue = (await small.api('GET', `/api/rooms/${id}`)).json.queue;
  let moves = 0;
  for (; moves < 600 && (await metric(/^rostrum_send_queue_drops_total (\d+)/m)) === 0; moves += 20) {
    for (let k = 0; k < 20; k++) await act(chair, { type: 'move', request_id: queue[(moves + k) % queue.length].id, to: 0 }, 20000);
  }
  assert.equal(await metric(/^rostrum_send_queue_drops_total (\d+)/m), 1, `cut after ${moves} moves`);
  assert.equal(delta.c.closed, null, `cut after ${moves} moves`);
  // A few more: the delta client is still not over its bound.
  for (let k = 0; k < 20; k++) await act(chair, { type: 'move', request_id: queue[k].id, to: 5 }, 20000);
  assert.equal(await metric(/^rostrum_send_queue_drops_total (\d+)/m), 1);
  delta.c.ws._socket.resume();
  await delta.c.sync(20000);
  assert.equal(delta.c.closed, null);
  assert.deepEqual(delta.c.seqErrors, []);
  full.c.ws._socket.resume();
  const closed = await full.c.waitClose(10000);
  assert.ok([1008, 1006].includes(closed.code), `the stalled full-form reader closed with ${closed.code}`);
  chair.close(); delta.c.close();
  await stopChecked(small);
});
