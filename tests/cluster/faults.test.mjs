// KNOWN PROBLEM (test engineer, for the lead; server at 3857cce):
// Redis frozen with SIGSTOP: the node's command times out after 3 s and the
// client gets `unavailable` ("refused, nothing changed", contract section
// 2), but the EVAL was already in Redis's socket buffer; on SIGCONT Redis
// runs it, the commit lands, and the node delivers that event to everyone
// after recovery. A client that retries as told duplicates its command.
// (With SIGKILL nothing of the kind: the dead Redis never runs it.)
// Contract section 6 (and 1: /healthz, 2: `unavailable`, close 1013): Redis
// killed with SIGKILL while clients are connected, then restarted on the
// same port with the same AOF: commands get `unavailable`, /healthz is 503
// on every node, connections stay open; afterwards /healthz is 200 again
// and delivery goes on with no lost or duplicated event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom, Client } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, waitHealth, health, until, sleep, assertConsecutive } from './lib.mjs';

let cl;
let cl2; // the cluster of the last test (Redis without persistence)
before(async () => { cl = await startCluster(3, { persist: true }); });
after(async () => { await cl?.stop(); await cl2?.stop(); });

const evKey = (e) => JSON.stringify([e.seq, e.name, e.actor, e.ts, e.data]);

function sameHistory(clients, what) {
  const ref = clients[0].c.log.filter((m) => m.type === 'event' && m.seq > clients[0].w.seq);
  for (const x of clients) {
    const evs = x.c.log.filter((m) => m.type === 'event' && m.seq > x.w.seq);
    assert.deepEqual(x.c.seqErrors, [], `${what}: ${x.w.you.sub} gaps/duplicates`);
    assertConsecutive(evs, `${what}: ${x.w.you.sub}`);
    const from = ref.findIndex((e) => e.seq === evs[0]?.seq);
    assert.deepEqual(evs.map(evKey), ref.slice(from).map(evKey), `${what}: ${x.w.you.sub} saw another history`);
  }
  return ref;
}

test('redis SIGKILLed and restarted with its AOF: unavailable, 503 everywhere, connections kept; then 200 and no gap', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const room = await newRoom(n1, { settings: { chat: 'open', speech_s: 600 } });
  const m = await enter(n1, room.id, 'moderator', 'chair');
  const d2 = await enter(n2, room.id, 'delegate', 'fr');
  const d3 = await enter(n3, room.id, 'delegate', 'de');
  const o3 = await enter(n3, room.id, 'observer', 'obs');
  const all = [m, d2, d3, o3];
  for (const [i, x] of [m, d2, d3].entries()) {
    const r = await act(x.c, { type: 'say', text: `before ${i}` });
    assert.equal(r.reply.type, 'ack');
  }
  await Promise.all(all.map((x) => waitSeq(x.c, 3)));
  const epoch = m.w.epoch;

  await cl.redis.kill();
  // Every node says 503 (a dead TCP peer is noticed at once; the probe and
  // the command timeout bound the rest).
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 503, 10000)));
  // Commands get `unavailable`, on every node; nothing is closed.
  for (const [i, x] of [m, d2, d3].entries()) {
    const r = await act(x.c, { type: 'say', text: `during ${i}` }, 8000);
    assert.equal(r.reply.type, 'error', `${x.w.you.sub}: ${JSON.stringify(r.reply)}`);
    assert.equal(r.reply.code, 'unavailable', `${x.w.you.sub}: ${JSON.stringify(r.reply)}`);
    assert.deepEqual(r.events, []);
  }
  const r = await act(m.c, { type: 'grant', if_seq: 3 }, 8000);
  assert.equal(r.reply.code, 'unavailable', JSON.stringify(r.reply));
  for (const x of all) {
    await x.c.sync();
    assert.equal(x.c.closed, null, `${x.w.you.sub} was disconnected`);
  }
  // A join while Redis is down: a welcome, or close 1013 (try again later); nothing else.
  {
    const c = new Client(n2.ws);
    await c.opened;
    c.send({ type: 'join', token: n2.token({ sub: 'late', name: 'Late', room: room.id, role: 'delegate' }) });
    const got = await Promise.race([
      c.waitClose(8000).then((x) => x.code),
      c.waitFor((x) => x.type === 'welcome', 8000).then(() => 'welcome'),
    ]).catch(() => c.closed?.code ?? 'nothing within 8 s');
    assert.ok(got === 'welcome' || got === 1013, `join during the outage: ${got}; messages ${JSON.stringify(c.log)}`);
    c.close();
  }
  // Still 503 while Redis is down (the outage lasts past the first retries: time is the point).
  await sleep(1500);
  for (const n of cl.nodes) assert.equal(await health(n), 503, `${n.id} healthy without Redis`);

  await cl.redis.start();
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 200, 15000)));
  for (const x of all) assert.equal(x.c.closed, null, `${x.w.you.sub} was disconnected`);

  // Commands sent after recovery are delivered to all nodes; seqs continue at 4.
  const acks = [];
  for (const [i, x] of [d3, d2, m].entries()) {
    const a = await act(x.c, { type: 'say', text: `after ${i}` }, 8000);
    assert.equal(a.reply.type, 'ack', `${x.w.you.sub}: ${JSON.stringify(a.reply)}`);
    acks.push(a.reply.seq);
  }
  assert.deepEqual(acks, [4, 5, 6]);
  await Promise.all(all.map((x) => waitSeq(x.c, 6)));
  await Promise.all(all.map((x) => x.c.sync()));
  const hist = sameHistory(all, 'after recovery');
  assert.deepEqual(hist.map((e) => e.data.text), ['before 0', 'before 1', 'before 2', 'after 0', 'after 1', 'after 2']);
  // The history survived (same epoch, resumable on any node).
  for (const n of cl.nodes) {
    const x = await enter(n, room.id, 'delegate', `re-${n.id}`, {}, { since: 2, epoch });
    assert.equal(x.w.epoch, epoch);
    assert.equal(x.w.resumed, true);
    assert.deepEqual(x.w.events.map((e) => e.seq), [3, 4, 5, 6]);
    // Presence was announced again: the chair on n1 and the delegates are online.
    const byId = Object.fromEntries(x.w.participants.map((p) => [p.sub, p]));
    for (const sub of ['chair', 'fr', 'de']) assert.equal(byId[sub]?.online, true, `${sub} offline in a welcome on ${n.id} after recovery: ${JSON.stringify(byId[sub])}`);
    assert.equal(x.w.observers, 1, `observers in a welcome on ${n.id} after recovery`);
    x.c.close();
  }
  for (const x of all) x.c.close();
}));

test('redis killed under load: every acknowledged command delivered exactly once everywhere, every refused one never', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  if (cl.redis.proc.exitCode !== null || cl.redis.proc.signalCode !== null) await cl.redis.start(); // the test above stopped early
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 200, 15000)));
  const room = await newRoom(n2, { settings: { chat: 'open' } });
  const senders = [await enter(n1, room.id, 'delegate', 's1'), await enter(n2, room.id, 'delegate', 's2'), await enter(n3, room.id, 'delegate', 's3')];
  const watchers = [await enter(n1, room.id, 'observer', 'w1'), await enter(n2, room.id, 'observer', 'w2'), await enter(n3, room.id, 'observer', 'w3')];
  const all = [...senders, ...watchers];
  let stop = false;
  const outcome = new Map(); // text -> reply
  const loops = senders.map(async (x, i) => {
    for (let k = 0; !stop; k++) {
      const text = `s${i + 1}-${k}`;
      const r = await act(x.c, { type: 'say', text }, 10000);
      outcome.set(text, r.reply);
      if (r.reply.type === 'error') assert.equal(r.reply.code, 'unavailable', JSON.stringify(r.reply));
      await sleep(80);
    }
  });
  const acked = () => [...outcome.values()].filter((r) => r.type === 'ack').length;
  await until(() => acked() >= 15, 10000, '15 acks before the kill');
  await cl.redis.kill();
  await until(() => [...outcome.values()].filter((r) => r.type === 'error').length >= 6, 15000, '6 unavailable during the outage');
  await cl.redis.start();
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 200, 15000)));
  const before = acked();
  await until(() => acked() >= before + 15, 15000, '15 acks after the restart');
  stop = true;
  await Promise.all(loops);
  const last = Math.max(...[...outcome.values()].filter((r) => r.type === 'ack').map((r) => r.seq));
  await Promise.all(all.map((x) => waitSeq(x.c, last, 10000)));
  await Promise.all(all.map((x) => x.c.sync()));
  const hist = sameHistory(all, 'under load');
  assert.equal(hist.at(-1).seq, last);
  const texts = hist.map((e) => e.data.text);
  assert.equal(new Set(texts).size, texts.length, 'a message delivered twice');
  const ackedTexts = [...outcome].filter(([, r]) => r.type === 'ack').map(([t]) => t).sort();
  const refusedButDelivered = [...outcome].filter(([t, r]) => r.type === 'error' && texts.includes(t)).map(([t]) => t);
  assert.deepEqual(refusedButDelivered, [], 'commands answered `unavailable` whose event was nevertheless committed and delivered');
  assert.deepEqual([...texts].sort(), ackedTexts, 'delivered messages differ from acknowledged ones');
  for (const [t, r] of outcome) if (r.type === 'ack') assert.equal(hist.find((e) => e.data.text === t).seq, r.seq, `ack seq of ${t}`);
  for (const x of all) x.c.close();
}));

test('redis frozen (SIGSTOP, no answers, TCP still open): commands time out as `unavailable`, 503; SIGCONT: 200 and no gap', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  if (cl.redis.proc.exitCode !== null || cl.redis.proc.signalCode !== null) await cl.redis.start();
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 200, 15000)));
  const room = await newRoom(n3, { settings: { chat: 'open' } });
  const a = await enter(n1, room.id, 'delegate', 'fa');
  const b = await enter(n2, room.id, 'delegate', 'fb');
  const o = await enter(n3, room.id, 'observer', 'fo');
  const all = [a, b, o];
  const r0 = await act(a.c, { type: 'say', text: 'before' });
  assert.equal(r0.reply.seq, 1);
  await Promise.all(all.map((x) => waitSeq(x.c, 1)));
  cl.redis.proc.kill('SIGSTOP');
  try {
    const t0 = Date.now();
    const r = await act(b.c, { type: 'say', text: 'frozen' }, 10000);
    const took = Date.now() - t0;
    assert.equal(r.reply.type, 'error', JSON.stringify(r.reply));
    assert.equal(r.reply.code, 'unavailable');
    assert.ok(took <= 6000, `unavailable after ${took} ms (command timeout is 3 s)`);
    await Promise.all(cl.nodes.map((n) => waitHealth(n, 503, 10000)));
    const r2 = await act(a.c, { type: 'say', text: 'frozen 2' }, 10000);
    assert.equal(r2.reply.code, 'unavailable', JSON.stringify(r2.reply));
    for (const x of all) { await x.c.sync(); assert.equal(x.c.closed, null); }
  } finally {
    cl.redis.proc.kill('SIGCONT');
  }
  await Promise.all(cl.nodes.map((n) => waitHealth(n, 200, 15000)));
  const r3 = await act(b.c, { type: 'say', text: 'after' }, 8000);
  assert.equal(r3.reply.type, 'ack', JSON.stringify(r3.reply));
  // 'frozen' may have reached Redis before the freeze was noticed only if it was
  // then delivered; a refused command must not be.
  await Promise.all(all.map((x) => waitSeq(x.c, r3.reply.seq)));
  await Promise.all(all.map((x) => x.c.sync()));
  const hist = sameHistory(all, 'after SIGCONT');
  assert.deepEqual(hist.map((e) => e.data.text), ['before', 'after'],
    'a command answered `unavailable` (command timeout while Redis was frozen) was committed after SIGCONT and delivered');
  for (const x of all) x.c.close();
}));

test('redis restarted WITHOUT its data: no client is ever shown seqs of two histories (epoch)', withLogs(() => cl2, async () => {
  cl2 = await startCluster(2, { persist: false });
  const [n1, n2] = cl2.nodes;
  const room = await newRoom(n1, { settings: { chat: 'open' } });
  const m = await enter(n1, room.id, 'moderator', 'chair'); // keeps n1's replica through the outage
  const d = await enter(n2, room.id, 'delegate', 'fr');
  for (let i = 0; i < 4; i++) await act(m.c, { type: 'announce', text: `old ${i}` });
  await waitSeq(d.c, 4);
  const epoch = m.w.epoch;
  d.c.close();
  await d.c.waitClose();
  await cl2.redis.kill();
  await Promise.all(cl2.nodes.map((n) => waitHealth(n, 503, 10000)));
  await cl2.redis.start(); // empty: no AOF, no RDB
  await Promise.all(cl2.nodes.map((n) => waitHealth(n, 200, 15000)));
  // The connected chair: either told to rejoin (closed), or its events go on
  // from seq 5 without going back.
  const r = await act(m.c, { type: 'announce', text: 'new 0' }, 8000).catch((e) => ({ failed: e.message }));
  if (!m.c.closed) {
    assert.deepEqual(m.c.seqErrors, [], 'seqs of two histories on one connection');
  }
  // Rejoining with the old since and epoch, on each node, after a while.
  await until(async () => {
    const x = await enter(n2, room.id, 'delegate', 'probe').catch(() => null);
    x?.c.close();
    return x;
  }, 10000, 'a join to work again');
  for (const n of cl2.nodes) {
    const { join } = await import('../lib/harness.mjs');
    const { client, welcome } = await join(n, { sub: 'fr', name: 'France', room: room.id, role: 'delegate' }, { since: 4, epoch });
    if (welcome.type === 'welcome') {
      if (welcome.epoch === epoch) {
        // Same history claimed: it must really be the same one.
        assert.ok(welcome.seq >= 4, `epoch ${epoch} kept but seq went back to ${welcome.seq} on ${n.id}`);
        if (welcome.resumed) assert.deepEqual(welcome.events.map((e) => e.seq), Array.from({ length: welcome.seq - 4 }, (_, i) => 5 + i));
      } else {
        assert.equal(welcome.resumed, false, `resumed across epochs on ${n.id}: ${JSON.stringify(welcome).slice(0, 300)}`);
      }
    } else {
      const close = await client.waitClose(5000);
      assert.equal(close.code, 4404, `rejoin on ${n.id}: ${JSON.stringify(welcome)} close ${close.code}`);
    }
    client.close();
  }
  void r;
  m.c.close();
}));
