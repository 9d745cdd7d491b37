// Contract section 2: frames, replies, limits, close codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {
  startServer, newRoom, enter, act, Client, firstFrameClose, sleep,
  stopChecked,
} from '../lib/harness.mjs';

let server;
let room;
before(async () => {
  server = await startServer();
  room = await newRoom(server);
});
after(async () => { await server?.stop(); });

let n = 0;
const delegate = () => enter(server, room.id, 'delegate', `fr-d${++n}`);
const moderator = () => enter(server, room.id, 'moderator', `fr-m${++n}`);

// Waits for the next error (at log index >= from) and checks the connection
// is still usable afterwards.
async function expectError(c, from, code, id) {
  const err = await c.waitFor((m) => m.type === 'error', 5000, from);
  assert.equal(err.code, code, JSON.stringify(err));
  assert.equal(typeof err.message, 'string');
  if (id !== undefined) assert.equal(err.id, id, JSON.stringify(err));
  return err;
}

test('ping is answered with pong and the server time', async () => {
  const { c } = await delegate();
  const at = c.mark();
  const t0 = Date.now();
  c.send({ type: 'ping' });
  const pong = await c.waitFor((m) => m.type === 'pong', 5000, at);
  assert.equal(typeof pong.ts, 'number');
  assert.ok(Math.abs(pong.ts - t0) < 5000, `pong.ts ${pong.ts} is far from now ${t0}`);
  // ping gets no ack.
  await c.sync();
  assert.equal(c.since(at).filter((m) => m.type === 'ack' || m.type === 'error').length, 0);
  c.close();
});

test('a binary frame gets error bad_request and the connection stays open', async () => {
  const { c } = await delegate();
  const at = c.mark();
  c.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
  await expectError(c, at, 'bad_request');
  await c.sync();
  assert.equal(c.closed, null);
  c.close();
});

test('invalid UTF-8 in a text frame gets error bad_request and the connection stays open', async () => {
  const { c } = await delegate();
  const at = c.mark();
  c.ws.send(Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
  await expectError(c, at, 'bad_request');
  await c.sync();
  assert.equal(c.closed, null);
  c.close();
});

test('invalid JSON, non-objects and a missing type get bad_request; the connection stays open', async () => {
  const { c } = await delegate();
  for (const frame of ['{"type": "ping"', 'not json', '', '[]', '[{"type":"ping"}]', '"ping"', '42', 'null', 'true',
    '{}', '{"id":"x1"}', '{"type":5}', '{"type":null}', '{"type":["say"]}']) {
    const at = c.mark();
    c.send(frame);
    await expectError(c, at, 'bad_request');
    await c.sync();
    // A successful frame in between, so that 10 in a row never happens here.
  }
  assert.equal(c.closed, null);
  c.close();
});

test('a missing type with an id gets bad_request carrying that id', async () => {
  const { c } = await delegate();
  const at = c.mark();
  c.send({ id: 'no-type-1', text: 'x' });
  await expectError(c, at, 'bad_request', 'no-type-1');
  c.close();
});

test('an unknown type gets unknown_type with the id; the connection stays open', async () => {
  const { c } = await delegate();
  const at = c.mark();
  c.send({ type: 'fly_to_the_moon', id: 'u1' });
  await expectError(c, at, 'unknown_type', 'u1');
  await c.sync();
  // Events are not commands.
  const at2 = c.mark();
  c.send({ type: 'event', id: 'u2', name: 'floor_granted' });
  await expectError(c, at2, 'unknown_type', 'u2');
  const at3 = c.mark();
  c.send({ type: 'welcome', id: 'u3' });
  await expectError(c, at3, 'unknown_type', 'u3');
  await c.sync();
  assert.equal(c.closed, null);
  c.close();
});

test('an id that is not a string or longer than 64 chars is bad_request', async () => {
  const { c } = await delegate();
  let at = c.mark();
  c.send({ type: 'request_floor', id: 'x'.repeat(65) });
  await expectError(c, at, 'bad_request');
  at = c.mark();
  c.send({ type: 'request_floor', id: 17 });
  await expectError(c, at, 'bad_request');
  await c.sync();
  assert.equal(c.eventsSince(0, 'floor_requested').length, 0, 'a refused command changed the room');
  // 64 chars is fine.
  const id = 'y'.repeat(64);
  at = c.mark();
  c.send({ type: 'say', text: 'sixty-four', id });
  const reply = await c.waitFor((m) => m.id === id, 5000, at);
  assert.equal(reply.type, 'ack', JSON.stringify(reply));
  c.close();
});

test('arguments of the wrong type are bad_request', async () => {
  const { c } = await moderator();
  const cases = [
    { type: 'request_floor', kind: 'song' },
    { type: 'request_floor', kind: 5 },
    { type: 'say' },
    { type: 'say', text: 5 },
    { type: 'say', text: '' },
    { type: 'extend', seconds: 0 },
    { type: 'extend', seconds: 3601 },
    { type: 'extend', seconds: '10' },
    { type: 'extend' },
    { type: 'move', request_id: 'r1', to: -1 },
    { type: 'move', request_id: 'r1', to: 'first' },
    { type: 'mute' },
    { type: 'set_status', status: 'asleep' },
    { type: 'set_role', sub: 'x', role: 'emperor' },
    { type: 'request_floor', if_seq: 'now' },
  ];
  for (const cmd of cases) {
    const { reply } = await act(c, cmd);
    assert.equal(reply.type, 'error', `${JSON.stringify(cmd)}: ${JSON.stringify(reply)}`);
    assert.equal(reply.code, 'bad_request', `${JSON.stringify(cmd)}: ${JSON.stringify(reply)}`);
    await c.sync(); // keeps the bad frames from being "in a row"
  }
  assert.equal(c.closed, null);
  c.close();
});

test('10 bad frames in a row close the connection with 4400', async () => {
  const { c } = await delegate();
  for (let i = 0; i < 10; i++) c.send('garbage');
  const close = await c.waitClose(5000);
  assert.equal(close.code, 4400);
  const errors = c.log.filter((m) => m.type === 'error');
  assert.ok(errors.length >= 9, `only ${errors.length} errors before the close`);
  for (const e of errors) assert.equal(e.code, 'bad_request');
});

test('100 bad frames in one burst still end in close 4400 (not a reset)', async () => {
  // The server decides to close at the 10th; the 90 after it are unread
  // when it does. The client must still get the close code.
  for (let k = 0; k < 5; k++) {
    const { c } = await delegate();
    for (let i = 0; i < 100; i++) c.send('garbage');
    const close = await c.waitClose(5000);
    assert.equal(close.code, 4400, `try ${k + 1}: closed with ${close.code} after ${c.log.filter((m) => m.type === 'error').length} errors`);
  }
});

test('10 bad frames of mixed kinds in a row close with 4400', async () => {
  const { c } = await delegate();
  const bin = Buffer.from('{"type":"ping"}');
  c.send('garbage');
  c.ws.send(bin, { binary: true });
  c.send('[]');
  c.send({ type: 'warp_drive' });
  c.send({ id: 'no-type' });
  c.ws.send(Buffer.from([0x22, 0xc3, 0x28, 0x22]), { binary: false });
  c.ws.send(bin, { binary: true });
  c.send('42');
  c.send({ type: 'teleport' });
  c.send('{');
  const close = await c.waitClose(5000);
  assert.equal(close.code, 4400);
});

test('9 bad frames in a row do not close; a good frame resets the count', async () => {
  const { c } = await delegate();
  for (let i = 0; i < 9; i++) c.send('garbage');
  await c.sync();
  assert.equal(c.closed, null);
  for (let i = 0; i < 9; i++) c.send({ type: 'nope' });
  await c.sync();
  assert.equal(c.closed, null, 'closed although a good frame came between two runs of 9');
  c.close();
});

test('a frame larger than 16 KiB is refused with close 1009', async () => {
  const { c } = await delegate();
  c.send({ type: 'say', text: 'x'.repeat(17 * 1024) });
  const close = await c.waitClose(5000);
  assert.equal(close.code, 1009);
});

test('a 1 MiB frame is refused with close 1009 too', async () => {
  const { c } = await delegate();
  c.send({ type: 'say', text: 'x'.repeat(1024 * 1024) });
  const close = await c.waitClose(5000);
  assert.equal(close.code, 1009);
});

test('a frame just under 16 KiB is read (and its over-long text refused)', async () => {
  const { c } = await delegate();
  const { reply } = await act(c, { type: 'say', text: 'x'.repeat(16 * 1024 - 100) });
  assert.equal(reply.type, 'error');
  assert.ok(['too_large', 'bad_request'].includes(reply.code), JSON.stringify(reply));
  await c.sync();
  assert.equal(c.closed, null);
  c.close();
});

test('text is limited to 2000 Unicode characters, not bytes or UTF-16 units', async () => {
  const { c } = await delegate();
  const at = c.mark();
  let r = await act(c, { type: 'say', text: 'a'.repeat(2001) });
  assert.equal(r.reply.type, 'error');
  assert.ok(['too_large', 'bad_request'].includes(r.reply.code), JSON.stringify(r.reply));
  r = await act(c, { type: 'say', text: 'a'.repeat(2000) });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  // 2000 code points outside the BMP: 8000 bytes, 4000 UTF-16 units.
  const emoji = '\u{1F3DB}'.repeat(2000);
  r = await act(c, { type: 'say', text: emoji });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  const ev = r.events.find((e) => e.name === 'message');
  assert.equal(ev.data.text, emoji);
  r = await act(c, { type: 'say', text: 'é'.repeat(2000) });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  r = await act(c, { type: 'say', text: 'é'.repeat(2001) });
  assert.equal(r.reply.type, 'error');
  assert.equal(c.eventsSince(at, 'message').length, 3);
  c.close();
});

test('a command before join closes with 4401', async () => {
  for (const frame of [{ type: 'request_floor', id: 'x' }, { type: 'ping' }, 'garbage', { type: 'say', text: 'hi' }]) {
    const { close } = await firstFrameClose(server, frame);
    assert.equal(close.code, 4401, JSON.stringify(frame));
  }
});

test('a binary frame before join closes with 4401', async () => {
  const c = new Client(server.ws);
  await c.opened;
  c.ws.send(Buffer.from('{"type":"join"}'), { binary: true });
  const close = await c.waitClose(5000);
  assert.equal(close.code, 4401);
});

test('a join without a token closes with 4401', async () => {
  const { close } = await firstFrameClose(server, { type: 'join' });
  assert.equal(close.code, 4401);
});

// A raw WebSocket handshake, so that what the server answers is seen as it
// is (the ws client would itself abort a handshake without a subprotocol).
// Resolves with { status, protocol, closedSoon }.
function rawUpgrade(protocol) {
  return new Promise((resolve, reject) => {
    const headers = {
      Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
    };
    if (protocol) headers['Sec-WebSocket-Protocol'] = protocol;
    const req = http.request(server.ws.replace(/^ws/, 'http'), { headers });
    req.on('response', (res) => { res.resume(); resolve({ status: res.statusCode, protocol: null, closedSoon: true }); });
    req.on('upgrade', (res, socket) => {
      const chosen = res.headers['sec-websocket-protocol'] || null;
      let data = Buffer.alloc(0);
      const t = setTimeout(() => { socket.destroy(); resolve({ status: 101, protocol: chosen, closedSoon: false }); }, 3000);
      socket.on('data', (d) => {
        data = Buffer.concat([data, d]);
        if (data.length >= 2 && (data[0] & 0x0f) === 0x8) { clearTimeout(t); socket.destroy(); resolve({ status: 101, protocol: chosen, closedSoon: true }); }
      });
      socket.on('close', () => { clearTimeout(t); resolve({ status: 101, protocol: chosen, closedSoon: true }); });
    });
    // A server that hangs up without an answer refuses too.
    req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve({ status: 0, protocol: null, closedSoon: true }) : reject(e)));
    req.end();
  });
}

test('a connection without the rostrum.v1 subprotocol is refused', async () => {
  for (const protocol of [null, 'rostrum.v2', 'chat, superchat']) {
    const r = await rawUpgrade(protocol);
    assert.ok(r.status !== 101 || r.closedSoon, `offering ${protocol}: accepted (101, protocol ${r.protocol}) and kept open`);
    assert.notEqual(r.protocol, 'rostrum.v1');
  }
  const ok = await rawUpgrade('chat, rostrum.v1');
  assert.equal(ok.status, 101);
  assert.equal(ok.protocol, 'rostrum.v1');
  // The ws client sees the same.
  const c = new Client(server.ws, { protocol: ['chat', 'rostrum.v1'] });
  await c.opened;
  assert.equal(c.ws.protocol, 'rostrum.v1');
  c.close();
});

// The status line a refused upgrade is answered with, read off a raw
// socket: every refusal is an HTTP/1.1 response with a status (contract
// section 5), never a bare closed socket nor HTTP/1.0.
function refusalLine(path, extra) {
  return new Promise((resolve, reject) => {
    const u = new URL(server.http);
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' + extra + '\r\n');
    });
    let data = '';
    sock.setTimeout(5000, () => { sock.destroy(); resolve(data); });
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}

test('every refused upgrade gets an HTTP/1.1 status with a reason, then the socket closes', async () => {
  const cases = [
    ['/ws', '', 400],
    ['/ws', 'Sec-WebSocket-Protocol: rostrum.v2\r\n', 400],
    ['/ws', 'Sec-WebSocket-Protocol: chat, superchat\r\n', 400],
    ['/elsewhere', 'Sec-WebSocket-Protocol: rostrum.v1\r\n', 404],
    ['/ws', 'Sec-WebSocket-Protocol: rostrum.v1\r\nOrigin: https://evil.example\r\n', 403],
  ];
  for (const [path, extra, status] of cases) {
    const text = await refusalLine(path, extra);
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${path} ${extra}: ${JSON.stringify(text)}`);
    const len = Number(/content-length: (\d+)/i.exec(head)[1]);
    assert.equal(Buffer.byteLength(body), len);
    assert.ok(len > 0, 'a reason in the body');
  }
});

test('no join within 10 s closes with 4408', async () => {
  const c = new Client(server.ws);
  await c.opened;
  const t0 = Date.now();
  const close = await c.waitClose(15000);
  const ms = Date.now() - t0;
  assert.equal(close.code, 4408);
  assert.ok(ms >= 9000 && ms <= 13000, `closed after ${ms} ms`);
});

test('every command but join and ping gets exactly one reply with its id', async () => {
  const m = await moderator();
  const d = await delegate();
  const o = await enter(server, room.id, 'observer', `fr-o${++n}`);
  const at = { m: m.c.mark(), d: d.c.mark(), o: o.c.mark() };
  const sent = { m: [], d: [], o: [] };
  const cmds = {
    d: [{ type: 'request_floor' }, { type: 'request_floor' }, { type: 'say', text: 'hello' }, { type: 'grant' },
      { type: 'withdraw', request_id: 'nope' }, { type: 'yield' }, { type: 'nonsense' }, { type: 'say' },
      { type: 'request_floor', kind: 'point_of_order' }, { type: 'ping' }],
    m: [{ type: 'grant' }, { type: 'announce', text: 'order' }, { type: 'pause' }, { type: 'resume' }, { type: 'extend', seconds: 5 },
      { type: 'end_floor' }, { type: 'end_floor' }, { type: 'set_agenda_item', item: 'zzz' }, { type: 'open_list' },
      { type: 'update_settings', settings: { chat: 'open' } }],
    o: [{ type: 'request_floor' }, { type: 'say', text: 'x' }, { type: 'ping' }],
  };
  let k = 0;
  for (const who of ['d', 'm', 'o']) {
    const c = { m, d, o }[who].c;
    for (const cmd of cmds[who]) {
      const id = `once-${++k}`;
      c.send({ ...cmd, id });
      if (cmd.type !== 'ping') sent[who].push(id);
    }
  }
  for (const who of ['d', 'm', 'o']) {
    const c = { m, d, o }[who].c;
    // Wait for the last reply, then a barrier, then count.
    await c.waitFor((x) => x.id === sent[who].at(-1) && (x.type === 'ack' || x.type === 'error'), 5000, at[who]);
    await c.sync();
    const replies = c.since(at[who]).filter((x) => x.type === 'ack' || x.type === 'error');
    const ids = replies.map((x) => x.id);
    assert.deepEqual(ids, sent[who], `${who}: replies ${JSON.stringify(replies)}`);
    for (const r of replies) {
      if (r.type === 'ack') assert.equal(typeof r.seq, 'number');
      else { assert.equal(typeof r.code, 'string'); assert.equal(typeof r.message, 'string'); }
    }
    assert.deepEqual(c.seqErrors, []);
  }
  for (const x of [m, d, o]) x.c.close();
});

test('a command without an id still gets one reply (without an id)', async () => {
  const { c } = await delegate();
  const at = c.mark();
  c.send({ type: 'say', text: 'no id' });
  const reply = await c.waitFor((m) => m.type === 'ack' || m.type === 'error', 5000, at);
  assert.equal(reply.type, 'ack');
  assert.ok(reply.id === undefined || reply.id === null || reply.id === '', JSON.stringify(reply));
  await c.sync();
  assert.equal(c.since(at).filter((m) => m.type === 'ack' || m.type === 'error').length, 1);
  c.close();
});

test('the ack comes after the event it produced, on the acting connection (read-your-writes)', async () => {
  const { c: mc } = await moderator();
  const { c: dc } = await delegate();
  for (let i = 0; i < 10; i++) {
    const { reply, events } = await act(dc, { type: 'say', text: `ryw ${i}` });
    assert.equal(reply.type, 'ack');
    const ev = events.find((e) => e.seq === reply.seq);
    assert.ok(ev, `ack seq ${reply.seq} arrived before its event; before it: ${JSON.stringify(events)}`);
    assert.equal(ev.name, 'message');
    assert.equal(ev.data.text, `ryw ${i}`);
  }
  // A command producing two events: the ack carries the seq of the last.
  await act(dc, { type: 'request_floor' });
  await act(mc, { type: 'grant' });
  const other = await delegate();
  await act(other.c, { type: 'request_floor' });
  const { reply, events } = await act(mc, { type: 'grant' });
  assert.equal(reply.type, 'ack');
  const names = events.filter((e) => e.seq > reply.seq - 2).map((e) => e.name);
  assert.deepEqual(names, ['floor_ended', 'floor_granted']);
  assert.equal(events.at(-1).seq, reply.seq);
  await act(mc, { type: 'end_floor' });
  mc.close(); dc.close(); other.c.close();
});

test('a command that produces no event is acked with the current seq', async () => {
  const { c } = await moderator();
  await act(c, { type: 'announce', text: 'make a seq' });
  await c.sync();
  const seq = c.lastSeq;
  // Settings set to what they already are: acked with or without an event.
  // Without one, the ack carries the room's current seq.
  const { reply, events } = await act(c, { type: 'update_settings', settings: { chat: 'open', speech_s: 180 } });
  assert.equal(reply.type, 'ack', JSON.stringify(reply));
  if (events.length === 0) assert.equal(reply.seq, seq, 'ack of a command without an event');
  else assert.equal(reply.seq, events.at(-1).seq);
  assert.ok(c.lastSeq >= reply.seq, `ack seq ${reply.seq} > last event seen ${c.lastSeq}`);
  c.close();
});

test('if_seq: refused with stale unless the room is still at that seq', async () => {
  const { c: mc } = await moderator();
  const { c: dc } = await delegate();
  await act(mc, { type: 'announce', text: 'seq one' });
  await dc.sync();
  const seq = dc.lastSeq;
  const at = dc.mark();
  let r = await act(dc, { type: 'request_floor', if_seq: seq - 1 });
  assert.equal(r.reply.code, 'stale', JSON.stringify(r.reply));
  r = await act(dc, { type: 'request_floor', if_seq: seq + 5 });
  assert.equal(r.reply.code, 'stale', JSON.stringify(r.reply));
  await dc.sync();
  assert.equal(dc.eventsSince(at).length, 0, 'a stale command changed the room');
  r = await act(dc, { type: 'request_floor', if_seq: seq });
  assert.equal(r.reply.type, 'ack', JSON.stringify(r.reply));
  assert.equal(r.reply.seq, seq + 1);
  mc.close(); dc.close();
});

test('if_seq: two chairs granting at once, exactly one wins', async () => {
  const { c: m1 } = await moderator();
  const { c: m2 } = await moderator();
  const { c: d1 } = await delegate();
  const { c: d2 } = await delegate();
  await act(d1, { type: 'request_floor' });
  await act(d2, { type: 'request_floor' });
  await m1.sync();
  await m2.sync();
  assert.equal(m1.lastSeq, m2.lastSeq);
  const seq = m1.lastSeq;
  const [a, b] = await Promise.all([act(m1, { type: 'grant', if_seq: seq }), act(m2, { type: 'grant', if_seq: seq })]);
  const types = [a.reply, b.reply].map((r) => (r.type === 'ack' ? 'ack' : r.code)).sort();
  assert.deepEqual(types, ['ack', 'stale']);
  await m1.sync();
  assert.equal(m1.eventsSince(0, 'floor_granted').filter((e) => e.seq > seq).length, 1);
  await act(m1, { type: 'end_floor' });
  for (const c of [m1, m2, d1, d2]) c.close();
});

test('rate limit: a burst beyond 40 gets rate_limited; the bucket refills', async () => {
  const { c } = await delegate();
  const at = c.mark();
  const ids = [];
  for (let i = 0; i < 50; i++) {
    const id = `rl-${i}`;
    ids.push(id);
    c.send({ type: 'withdraw', request_id: 'no-such', id });
  }
  await c.waitFor((m) => m.id === ids.at(-1), 5000, at);
  const replies = c.since(at).filter((m) => m.type === 'error' || m.type === 'ack');
  assert.deepEqual(replies.map((r) => r.id), ids, 'every command gets exactly one reply, in order');
  const limited = replies.filter((r) => r.code === 'rate_limited');
  assert.ok(limited.length >= 5, `only ${limited.length} of 50 rate_limited`);
  const firstLimited = replies.findIndex((r) => r.code === 'rate_limited');
  assert.ok(firstLimited >= 38, `rate_limited already at command ${firstLimited + 1} of a burst`);
  for (const r of replies.slice(0, firstLimited)) assert.equal(r.code, 'not_found');
  // 20 a second on average: after a second, ten more pass.
  await sleep(1100);
  const at2 = c.mark();
  for (let i = 0; i < 10; i++) c.send({ type: 'withdraw', request_id: 'no-such', id: `rl2-${i}` });
  await c.waitFor((m) => m.id === 'rl2-9', 5000, at2);
  const again = c.since(at2).filter((m) => m.type === 'error');
  assert.equal(again.filter((r) => r.code === 'rate_limited').length, 0, JSON.stringify(again));
  assert.equal(c.closed, null);
  c.close();
});

test('rate limit: persistent abuse closes with 4429', async () => {
  // In lock-step (each command waits for its reply), far above 20 a second:
  // the server never has unread input from us when it closes.
  const { c } = await delegate();
  const t0 = Date.now();
  let sent = 0;
  while (!c.closed && Date.now() - t0 < 15000 && sent < 5000) {
    const id = `ab-${sent++}`;
    const at = c.mark();
    c.send({ type: 'withdraw', request_id: 'no-such', id });
    await c.waitFor((m) => m.id === id, 5000, at).catch(() => {});
  }
  const close = await c.waitClose(5000);
  assert.equal(close.code, 4429, `closed with ${close.code} after ${sent} commands`);
  assert.ok(c.log.some((m) => m.code === 'rate_limited'), 'no rate_limited error before the close');
});

test('rate limit: one large burst, then silence, also ends in close 4429 (not a reset)', async () => {
  // The client stops sending after the burst; the server must still deliver
  // its replies and the 4429 close frame rather than drop the connection.
  for (let k = 0; k < 5; k++) {
    const { c } = await delegate();
    for (let i = 0; i < 400; i++) c.send({ type: 'withdraw', request_id: 'no-such', id: `bb-${i}` });
    const close = await c.waitClose(10000);
    const replies = c.log.filter((m) => m.type === 'error').length;
    assert.equal(close.code, 4429, `try ${k + 1}: closed with ${close.code} after ${replies} replies to 400 commands`);
    assert.ok(c.log.some((m) => m.code === 'rate_limited'), 'no rate_limited error before the close');
  }
});

test('the 4400 count ignores refused but well-formed commands', async () => {
  const { c } = await delegate();
  for (let i = 0; i < 12; i++) c.send({ type: 'withdraw', request_id: 'nope', id: `wf-${i}` });
  await c.waitFor((m) => m.id === 'wf-11');
  await c.sync();
  assert.equal(c.closed, null);
  c.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
