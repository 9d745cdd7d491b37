// EARLY PROBLEMS (test engineer, for the lead; server at 3857cce):
// 1. CRASH: GET /api/rooms on a Redis node for rooms that have no connection
//    on that node -> "free(): double free detected in tcache 2", the node
//    dies. valgrind: invalid read in maybe_drop (hub.c:173) called from
//    open_log (backend_redis.c:828), on a hub_room freed by list_found
//    (hub.c:1239) <- opened (hub.c:856) <- open_log (backend_redis.c:828);
//    the room was allocated by add_room <- wait_for_room <- hub_room_ensure
//    <- rooms_read (backend_redis.c:1046). Repro: one node + redis, POST
//    /api/rooms {id:"ab"}, (POST again -> 409), GET /api/rooms.
// Contract section 7 across nodes: a room created on one node is served,
// listed, minted for, recorded and closed from any node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, until } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(3); });
after(async () => { await cl?.stop(); });

test('create on n1, token from n2, transcript from n3, listed everywhere, DELETE on n2 closes it on n1', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const id = `life-${process.pid}`;
  const body = { id, title: 'Lifecycle across nodes', agenda: [{ id: 'q1', title: 'One' }], settings: { chat: 'open' } };
  const created = await n1.api('POST', '/api/rooms', body);
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.id, id);
  // The id is taken on every node.
  for (const n of [n2, n3]) {
    const again = await n.api('POST', '/api/rooms', body);
    assert.equal(again.status, 409, `${n.id}: ${again.status} ${again.text}`);
  }
  // Snapshot from another node.
  const got = await n3.api('GET', `/api/rooms/${id}`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.id, id);
  assert.equal(got.json.title, 'Lifecycle across nodes');

  // Token minted by n2, used on n1.
  const tok = await n2.api('POST', `/api/rooms/${id}/tokens`, { sub: 'chair', name: 'The Chair', role: 'moderator' });
  assert.equal(tok.status, 201, tok.text);
  assert.equal(typeof tok.json.token, 'string');
  assert.match(tok.json.url, /\/#t=/);
  const { client: m, welcome } = await join(n1, tok.json.token);
  assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
  assert.equal(welcome.you.sub, 'chair');
  assert.equal(welcome.you.role, 'moderator');
  const dtok = await n3.api('POST', `/api/rooms/${id}/tokens`, { sub: 'fr', name: 'France', role: 'delegate', delegation: 'France' });
  assert.equal(dtok.status, 201, dtok.text);
  const { client: d, welcome: dw } = await join(n2, dtok.json.token);
  assert.equal(dw.type, 'welcome', JSON.stringify(dw));

  const at = m.mark();
  await act(m, { type: 'announce', text: 'opening' });
  const rq = await act(d, { type: 'request_floor' });
  // (Cross-node causality is checked in delivery.test.mjs; here the chair waits to see the request.)
  await waitSeq(m, rq.reply.seq);
  const g = await act(m, { type: 'grant' });
  assert.equal(g.reply.type, 'ack', JSON.stringify(g.reply));
  await act(d, { type: 'say', text: 'statement' });
  const y = await act(d, { type: 'yield' });
  await waitSeq(m, y.reply.seq);
  const events = m.eventsSince(at);
  assert.equal(events.length, 5);

  // Transcript from n3 (which has no connection in the room).
  const tr = await n3.api('GET', `/api/rooms/${id}/transcript?format=json`);
  assert.equal(tr.status, 200, tr.text);
  const tev = Array.isArray(tr.json) ? tr.json : tr.json.events;
  assert.deepEqual(tev.map((e) => [e.seq, e.name, e.actor, e.ts]), events.map((e) => [e.seq, e.name, e.actor, e.ts]));
  assert.match(tr.text, /spoken_ms/);

  // Listed on every node, with the participant counts summed.
  for (const n of cl.nodes) {
    const list = await n.api('GET', '/api/rooms');
    assert.equal(list.status, 200, list.text);
    const row = list.json.find((r) => r.id === id);
    assert.ok(row, `${n.id} does not list ${id}: ${list.text}`);
    assert.equal(row.title, 'Lifecycle across nodes');
    assert.equal(row.status, 'open');
  }

  // DELETE on n2: the chair on n1 and the delegate on n2 see status closed.
  const dm = m.mark();
  const dd = d.mark();
  const del = await n2.api('DELETE', `/api/rooms/${id}`);
  assert.equal(del.status, 200, del.text);
  const ev1 = await m.waitEvent('status_changed', (e) => e.data.status === 'closed', 5000, dm);
  const ev2 = await d.waitEvent('status_changed', (e) => e.data.status === 'closed', 5000, dd);
  assert.equal(ev1.seq, ev2.seq);
  assert.equal(ev1.seq, events.at(-1).seq + 1);
  const r = await act(m, { type: 'announce', text: 'after close' });
  assert.equal(r.reply.type, 'error');
  assert.equal(r.reply.code, 'room_closed');
  const r2 = await act(d, { type: 'request_floor' });
  assert.equal(r2.reply.code, 'room_closed');
  // The closed status is what every node reports.
  for (const n of cl.nodes) {
    const g = await n.api('GET', `/api/rooms/${id}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.status, 'closed', `${n.id}: ${g.text.slice(0, 300)}`);
  }
  m.close(); d.close();
}));

test('GET /api/rooms on every node counts participants connected to other nodes', withLogs(() => cl, async () => {
  const [n1, n2, n3] = cl.nodes;
  const id = `count-${process.pid}`;
  assert.equal((await n2.api('POST', '/api/rooms', { id, title: 'Counts', agenda: [] })).status, 201);
  const a = await enter(n1, id, 'delegate', 'a');
  const b = await enter(n3, id, 'delegate', 'b');
  const o1 = await enter(n1, id, 'observer', 'o1');
  const o2 = await enter(n2, id, 'observer', 'o2');
  for (const n of cl.nodes) {
    await until(async () => {
      const row = (await n.api('GET', '/api/rooms')).json.find((r) => r.id === id);
      return row && row.participants === 2 && row.observers === 2;
    }, 8000, `${n.id} lists ${id} with 2 participants and 2 observers`);
  }
  for (const x of [a, b, o1, o2]) x.c.close();
}));
