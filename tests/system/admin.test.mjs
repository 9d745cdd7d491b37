// Contract section 7: the admin HTTP API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, api, newRoom, enter, act, join, decodeToken,
  stopChecked,
} from '../lib/harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const DEFAULT_SETTINGS = {
  speech_s: 180, reply_s: 60, point_of_order_s: 60, on_time_up: 'notify', chat: 'open',
  list_open: true, queue_order: 'request', replies_per_item: 2, pause_on_disconnect: true,
  changeover_s: 15, // contract 9.1
};
const SNAPSHOT_KEYS = ['id', 'title', 'status', 'agenda', 'agenda_item', 'settings', 'queue', 'floor', 'muted', 'stats'];
let n = 0;
const rid = (p = 'adm') => `${p}-${process.pid}-${++n}`;

test('401 without a bearer and with a wrong one, on every endpoint', async () => {
  const room = await newRoom(server);
  const calls = [
    ['GET', '/api/rooms'],
    ['POST', '/api/rooms', { id: rid(), title: 'X' }],
    ['GET', `/api/rooms/${room.id}`],
    ['DELETE', `/api/rooms/${room.id}`],
    ['POST', `/api/rooms/${room.id}/tokens`, { sub: 'a', name: 'A', role: 'delegate' }],
    ['GET', `/api/rooms/${room.id}/transcript?format=json`],
  ];
  for (const [method, p, body] of calls) {
    const none = await api(server.http, null, method, p, body);
    assert.equal(none.status, 401, `${method} ${p} without bearer: ${none.status}`);
    const wrong = await api(server.http, 'wrong-' + server.adminKey, method, p, body);
    assert.equal(wrong.status, 401, `${method} ${p} with a wrong bearer: ${wrong.status}`);
    const basic = await api(server.http, null, method, p, body, { authorization: `Basic ${Buffer.from('admin:' + server.adminKey).toString('base64')}` });
    assert.equal(basic.status, 401, `${method} ${p} with Basic: ${basic.status}`);
  }
  // Nothing of the refused calls happened.
  const res = await server.api('GET', `/api/rooms/${room.id}`);
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'open');
});

test('POST /api/rooms: 201 with the room snapshot and default settings', async () => {
  const id = rid();
  const res = await server.api('POST', '/api/rooms', {
    id, title: 'Closing discussion', agenda: [{ id: 'q1', title: 'One' }, { id: 'q2', title: 'Two' }],
  });
  assert.equal(res.status, 201, res.text);
  assert.match(res.headers.get('content-type') || '', /json/);
  const s = res.json;
  for (const k of SNAPSHOT_KEYS) assert.ok(k in s, `snapshot lacks ${k}: ${res.text}`);
  assert.equal(s.id, id);
  assert.equal(s.title, 'Closing discussion');
  assert.equal(s.status, 'open');
  assert.deepEqual(s.agenda, [{ id: 'q1', title: 'One' }, { id: 'q2', title: 'Two' }]);
  assert.ok(s.agenda_item === null || s.agenda_item === 'q1', `agenda_item ${s.agenda_item}`);
  assert.deepEqual(s.settings, DEFAULT_SETTINGS);
  assert.deepEqual(s.queue, []);
  assert.equal(s.floor, null);
  assert.deepEqual(s.muted, []);
  assert.deepEqual(s.stats, {});
});

test('POST /api/rooms: settings given are kept, the rest default', async () => {
  const res = await server.api('POST', '/api/rooms', {
    id: rid(), title: 'T', agenda: [], settings: { speech_s: 90, chat: 'floor', queue_order: 'category' },
  });
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(res.json.settings, { ...DEFAULT_SETTINGS, speech_s: 90, chat: 'floor', queue_order: 'category' });
});

test('POST /api/rooms: 409 for an id that exists', async () => {
  const id = rid();
  assert.equal((await server.api('POST', '/api/rooms', { id, title: 'A', agenda: [] })).status, 201);
  const again = await server.api('POST', '/api/rooms', { id, title: 'B', agenda: [] });
  assert.equal(again.status, 409, again.text);
  assert.equal((await server.api('GET', `/api/rooms/${id}`)).json.title, 'A');
});

test('POST /api/rooms: 400 for invalid bodies', async () => {
  const bad = [
    ['bad id (upper case)', { id: 'Bad_Room', title: 'T' }],
    ['bad id (leading dash)', { id: '-room', title: 'T' }],
    ['bad id (65 chars)', { id: 'a'.repeat(65), title: 'T' }],
    ['bad id (space)', { id: 'a room', title: 'T' }],
    ['missing id', { title: 'T' }],
    ['missing title', { id: rid() }],
    ['empty title', { id: rid(), title: '' }],
    ['title not a string', { id: rid(), title: 5 }],
    ['agenda not an array', { id: rid(), title: 'T', agenda: 'q1' }],
    ['agenda item without id', { id: rid(), title: 'T', agenda: [{ title: 'x' }] }],
    ['duplicate agenda item id', { id: rid(), title: 'T', agenda: [{ id: 'q', title: 'a' }, { id: 'q', title: 'b' }] }],
    ['speech_s 0', { id: rid(), title: 'T', settings: { speech_s: 0 } }],
    ['speech_s negative', { id: rid(), title: 'T', settings: { speech_s: -5 } }],
    ['speech_s a string', { id: rid(), title: 'T', settings: { speech_s: '60' } }],
    ['chat unknown', { id: rid(), title: 'T', settings: { chat: 'loud' } }],
    ['on_time_up unknown', { id: rid(), title: 'T', settings: { on_time_up: 'explode' } }],
    ['queue_order unknown', { id: rid(), title: 'T', settings: { queue_order: 'alpha' } }],
    ['list_open not a bool', { id: rid(), title: 'T', settings: { list_open: 'yes' } }],
    ['replies_per_item negative', { id: rid(), title: 'T', settings: { replies_per_item: -1 } }],
    ['settings not an object', { id: rid(), title: 'T', settings: 5 }],
    ['body an array', [{ id: rid(), title: 'T' }]],
    ['body not JSON', '{"id": "x", '],
  ];
  for (const [what, body] of bad) {
    const res = await server.api('POST', '/api/rooms', body);
    assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
    if (body && typeof body === 'object' && !Array.isArray(body) && typeof body.id === 'string' && /^[a-z0-9][a-z0-9-]{0,63}$/.test(body.id)) {
      assert.equal((await server.api('GET', `/api/rooms/${body.id}`)).status, 404, `${what}: the room was created anyway`);
    }
  }
});

test('GET /api/rooms lists rooms with participant and observer counts', async () => {
  const room = await newRoom(server);
  const d = await enter(server, room.id, 'delegate', 'list-d1');
  const o = await enter(server, room.id, 'observer', 'list-o1');
  const res = await server.api('GET', '/api/rooms');
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(res.json), res.text);
  const entry = res.json.find((r) => r.id === room.id);
  assert.ok(entry, res.text);
  assert.equal(entry.title, room.title);
  assert.equal(entry.status, 'open');
  assert.equal(typeof entry.participants, 'number');
  assert.equal(typeof entry.observers, 'number');
  assert.equal(entry.participants, 1);
  assert.equal(entry.observers, 1);
  d.c.close();
  o.c.close();
});

test('GET /api/rooms/{id}: the snapshot with participants; 404 for an unknown room', async () => {
  const room = await newRoom(server);
  const m = await enter(server, room.id, 'moderator', 'one-m1', { delegation: 'Chair' });
  const d = await enter(server, room.id, 'delegate', 'one-d1', { delegation: 'France', category: 'member_state' });
  const o = await enter(server, room.id, 'observer', 'one-o1');
  const res = await server.api('GET', `/api/rooms/${room.id}`);
  assert.equal(res.status, 200, res.text);
  for (const k of SNAPSHOT_KEYS) assert.ok(k in res.json, `lacks ${k}`);
  assert.ok(Array.isArray(res.json.participants), res.text);
  const subs = res.json.participants.map((p) => p.sub).sort();
  assert.deepEqual(subs, ['one-d1', 'one-m1']);
  const dp = res.json.participants.find((p) => p.sub === 'one-d1');
  assert.equal(dp.role, 'delegate');
  assert.equal(dp.delegation, 'France');
  assert.equal(dp.category, 'member_state');
  assert.equal(dp.online, true);
  assert.equal(dp.connections, 1);
  assert.equal(dp.muted, false);
  const missing = await server.api('GET', `/api/rooms/no-such-room-${process.pid}`);
  assert.equal(missing.status, 404);
  for (const x of [m, d, o]) x.c.close();
});

test('DELETE /api/rooms/{id}: 200; the room is closed for everyone in it', async () => {
  const room = await newRoom(server);
  const m = await enter(server, room.id, 'moderator', 'del-m1');
  const d = await enter(server, room.id, 'delegate', 'del-d1');
  const res = await server.api('DELETE', `/api/rooms/${room.id}`);
  assert.equal(res.status, 200, res.text);
  for (const { c } of [m, d]) {
    const ev = await c.waitEvent('status_changed');
    assert.equal(ev.data.status, 'closed');
    assert.equal(ev.state.status, 'closed');
  }
  for (const [c, cmd] of [[d.c, { type: 'request_floor' }], [d.c, { type: 'say', text: 'hi' }],
    [m.c, { type: 'announce', text: 'hello' }], [m.c, { type: 'set_status', status: 'open' }]]) {
    const { reply } = await act(c, cmd);
    assert.equal(reply.type, 'error', JSON.stringify(reply));
    assert.equal(reply.code, 'room_closed', `${cmd.type}: ${JSON.stringify(reply)}`);
  }
  // Reading stays possible.
  const snap = await server.api('GET', `/api/rooms/${room.id}`);
  assert.equal(snap.status, 200);
  assert.equal(snap.json.status, 'closed');
  const late = await enter(server, room.id, 'delegate', 'del-d2');
  assert.equal(late.w.room.status, 'closed');
  const { reply } = await act(late.c, { type: 'request_floor' });
  assert.equal(reply.code, 'room_closed');
  assert.equal((await server.api('DELETE', `/api/rooms/no-such-room-${process.pid}`)).status, 404);
  for (const x of [m, d, late]) x.c.close();
});

test('POST /api/rooms/{id}/tokens: 201 {token,url}; the token joins with its claims', async () => {
  const room = await newRoom(server);
  const res = await server.api('POST', `/api/rooms/${room.id}/tokens`, {
    sub: 'tok-d1', name: 'Délégation de la France', role: 'delegate', delegation: 'France', category: 'member_state', ttl_s: 600,
  });
  assert.equal(res.status, 201, res.text);
  const { token, url } = res.json;
  assert.equal(typeof token, 'string');
  assert.ok(url.includes('/#t='), url);
  assert.equal(decodeURIComponent(url.slice(url.indexOf('/#t=') + 4)), token);
  assert.ok(url.startsWith(server.http), `${url} is not on ${server.http}`);
  const c = decodeToken(token);
  assert.equal(c.sub, 'tok-d1');
  assert.equal(c.room, room.id);
  assert.equal(c.role, 'delegate');
  assert.ok(Math.abs(c.exp - (Date.now() / 1000 + 600)) < 60, `exp ${c.exp} is not now + ttl_s`);
  const { client, welcome } = await join(server, token);
  assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
  assert.equal(welcome.you.sub, 'tok-d1');
  assert.equal(welcome.you.name, 'Délégation de la France');
  assert.equal(welcome.you.role, 'delegate');
  assert.equal(welcome.you.delegation, 'France');
  assert.equal(welcome.you.category, 'member_state');
  client.close();
  await client.waitClose();
  assert.ok(!server.log.includes(token), 'the token appears in the server log');
  assert.ok(!server.log.includes(token.split('.')[2]), 'the token signature appears in the server log');
});

test('POST /api/rooms/{id}/tokens: moderator and observer tokens work too', async () => {
  const room = await newRoom(server);
  for (const role of ['moderator', 'observer']) {
    const res = await server.api('POST', `/api/rooms/${room.id}/tokens`, { sub: `tok-${role}`, name: role, role });
    assert.equal(res.status, 201, res.text);
    const { client, welcome } = await join(server, res.json.token);
    assert.equal(welcome.type, 'welcome');
    assert.equal(welcome.you.role, role);
    client.close();
  }
});

test('POST /api/rooms/{id}/tokens: 400 for an invalid request, 404 for an unknown room', async () => {
  const room = await newRoom(server);
  const bad = [
    ['missing sub', { name: 'A', role: 'delegate' }],
    ['bad sub', { sub: 'a b', name: 'A', role: 'delegate' }],
    ['sub too long', { sub: 'a'.repeat(65), name: 'A', role: 'delegate' }],
    ['missing name', { sub: 'a', role: 'delegate' }],
    ['name too long', { sub: 'a', name: 'n'.repeat(81), role: 'delegate' }],
    ['missing role', { sub: 'a', name: 'A' }],
    ['unknown role', { sub: 'a', name: 'A', role: 'king' }],
    ['unknown category', { sub: 'a', name: 'A', role: 'delegate', category: 'royalty' }],
    ['ttl_s negative', { sub: 'a', name: 'A', role: 'delegate', ttl_s: -1 }],
    ['not JSON', 'sub=a'],
  ];
  for (const [what, body] of bad) {
    const res = await server.api('POST', `/api/rooms/${room.id}/tokens`, body);
    assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  }
  const res = await server.api('POST', `/api/rooms/no-such-room-${process.pid}/tokens`, { sub: 'a', name: 'A', role: 'delegate' });
  assert.equal(res.status, 404);
});

test('a room created over the API is joinable at once and starts at seq 0', async () => {
  const room = await newRoom(server);
  const { c, w } = await enter(server, room.id, 'moderator', 'fresh-m1');
  assert.equal(w.seq, 0);
  assert.deepEqual(w.events, []);
  const { reply, events } = await act(c, { type: 'announce', text: 'first' });
  assert.equal(reply.type, 'ack');
  assert.equal(events[0].seq, 1);
  assert.equal(reply.seq, 1);
  c.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
