// The command-line client and the delta form (contract section 10):
// `rostrum watch` and `rostrum join` ask for deltas unless --full-state, keep
// the speakers list from the ops, and when it disagrees with the server's
// queue_len or queue_hash, join again with since and go on without a gap or
// a repeat. The disagreement is made by a WebSocket proxy between the
// client and the server that corrupts one hash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { root, startServer, newRoom, enter, act, claims, sleep } from '../lib/harness.mjs';

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

function start(args, input = null, bin = cli) {
  const p = spawn(bin, args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  live.add(p);
  const h = { p, stdout: '', stderr: '' };
  p.stdout.on('data', (d) => { h.stdout += d; });
  p.stderr.on('data', (d) => { h.stderr += d; });
  h.exited = new Promise((resolve, reject) => p.on('exit', (code) => {
    live.delete(p);
    if (/Sanitizer|runtime error:/.test(h.stderr)) reject(new Error(`rostrum ${args.join(' ')}:\n${h.stderr}`));
    else resolve(code);
  }));
  h.waitFor = async (re, ms = 8000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = h.stdout.match(re);
      if (m) return m;
      if (p.exitCode !== null) throw new Error(`exited ${p.exitCode} before ${re}:\n${h.stdout}\n${h.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${re} in:\n${h.stdout}\n${h.stderr}`);
      await sleep(25);
    }
  };
  if (input !== null) { p.stdin.on('error', () => {}); p.stdin.write(input); }
  return h;
}

// A proxy to the server's /ws. tamper(msg) may change a server message
// (parsed) on its way to the client; joins lists the join frames seen.
async function proxy(tamper) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'rostrum.v1' });
  await new Promise((r) => wss.once('listening', r));
  const px = { wss, joins: [], url: `http://127.0.0.1:${wss.address().port}` };
  wss.on('connection', (down) => {
    const up = new WebSocket(server.ws, 'rostrum.v1');
    const early = [];
    up.on('open', () => { for (const m of early.splice(0)) up.send(m); });
    down.on('message', (d) => {
      const t = d.toString();
      try { const m = JSON.parse(t); if (m.type === 'join') px.joins.push(m); } catch { /* passed on as is */ }
      if (up.readyState === WebSocket.OPEN) up.send(t); else early.push(t);
    });
    up.on('message', (d) => {
      let t = d.toString();
      const m = JSON.parse(t);
      if (tamper(m)) t = JSON.stringify(m);
      if (down.readyState === WebSocket.OPEN) down.send(t);
    });
    up.on('close', (code, reason) => { try { down.close(code, reason.toString()); } catch { /* closed */ } });
    down.on('close', () => up.close());
    up.on('error', () => {});
    down.on('error', () => {});
  });
  return px;
}

const url = (base, room, role, sub, extra = {}) => `${base}/#t=${server.token(claims(room, role, sub, extra))}`;
const eventsOf = (stdout) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .flatMap((m) => (m.type === 'welcome' ? m.events : m.type === 'event' ? [m] : []));

test('watch asks for deltas by default and the whole state with --full-state', async () => {
  const room = await newRoom(server);
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  const { c: fr } = await enter(server, room.id, 'delegate', 'fr', { name: 'France' });
  const px = await proxy(() => false);
  const d = start(['watch', '--json', url(px.url, room.id, 'observer', 'w1')]);
  const f = start(['watch', '--json', '--full-state', url(px.url, room.id, 'observer', 'w2')]);
  await d.waitFor(/"type":"welcome"/);
  await f.waitFor(/"type":"welcome"/);
  await act(fr, { type: 'request_floor' });
  await d.waitFor(/"name":"floor_requested"/);
  await f.waitFor(/"name":"floor_requested"/);
  const de = eventsOf(d.stdout).find((e) => e.name === 'floor_requested');
  const fe = eventsOf(f.stdout).find((e) => e.name === 'floor_requested');
  assert.deepEqual(Object.keys(de.state).sort(), ['queue_hash', 'queue_len', 'queue_ops']);
  assert.deepEqual(Object.keys(fe.state), ['queue']);
  const joins = Object.fromEntries(px.joins.map((j) => [JSON.parse(Buffer.from(j.token.split('.')[1], 'base64url')).sub, j]));
  assert.equal(joins.w1.deltas, true);
  assert.equal('deltas' in joins.w2, false);
  // The plain log reads the delta form as it read the full one.
  const plain = start(['watch', url(server.http, room.id, 'observer', 'w3')]);
  await plain.waitFor(/^joined /m);
  await act(chair, { type: 'grant' });
  await plain.waitFor(/has the floor/);
  for (const h of [d, f, plain]) { h.p.kill('SIGINT'); assert.equal(await h.exited, 0, h.stderr); }
  assert.equal(plain.stderr, '');
  chair.close(); fr.close(); px.wss.close();
});

test('watch and join heal a speakers list that disagrees with the server: join again with since, no gap, no repeat', async () => {
  const room = await newRoom(server);
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  const dels = {};
  for (const s of ['fr', 'de', 'it']) dels[s] = (await enter(server, room.id, 'delegate', s, { name: `Delegate ${s}` })).c;
  await act(dels.fr, { type: 'request_floor' });
  // The proxy corrupts the hash of the first queue event on the first
  // connection of each client (the first and third welcomes it passes on).
  const spoiled = new Set();
  let conns = 0;
  const px = await proxy((m) => {
    if (m.type === 'welcome') conns++;
    if (m.type === 'event' && m.state && m.state.queue_hash && !spoiled.has(conns) && (conns === 1 || conns === 3)) {
      spoiled.add(conns);
      m.state.queue_hash = '0000000000000000';
      return true;
    }
    return false;
  });
  const w = start(['watch', '--json', url(px.url, room.id, 'observer', 'wx')]);
  await w.waitFor(/"type":"welcome"/);
  const r1 = await act(dels.de, { type: 'request_floor' });
  await w.waitFor(/"resumed":true/);
  assert.match(w.stderr, /disagrees with the server's after seq \d+; joining again/);
  const again = px.joins.at(-1);
  assert.equal(px.joins.length, 2);
  assert.equal(again.since, r1.reply.seq);
  assert.equal(again.deltas, true);
  assert.equal(typeof again.epoch, 'string');
  await act(dels.it, { type: 'request_floor' });
  await act(chair, { type: 'say', text: 'after the heal' });
  await w.waitFor(/after the heal/);
  // Every seq once and in order over both connections (the first welcome's
  // history included).
  const seqs = eventsOf(w.stdout).map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
  w.p.kill('SIGINT');
  assert.equal(await w.exited, 0, w.stderr);

  // join: the chair's script goes on over the new connection.
  const j = start(['join', '--linger', '1', url(px.url, room.id, 'moderator', 'chair2', { name: 'Vice' })], '');
  await j.waitFor(/^joined /m);
  j.p.stdin.write('/request\n');
  await j.waitFor(/^ok \/request/m);
  await sleep(300);
  assert.match(j.stderr, /joining again/);
  j.p.stdin.write('/grant\n/say still here\n');
  j.p.stdin.end();
  await j.waitFor(/^ok \/say still here/m);
  assert.equal(await j.exited, 0, `${j.stdout}\n${j.stderr}`);
  assert.equal(px.joins.length, 4);
  assert.equal(px.joins.at(-1).deltas, true);
  assert.ok(px.joins.at(-1).since > 0);
  chair.close();
  for (const c of Object.values(dels)) c.close();
  px.wss.close();
});

test('rostrum-bench speakers: every event to every connection, bytes per delivery in both forms', async () => {
  const bench = process.env.ROSTRUM_BENCH || path.join(path.dirname(path.dirname(cli)), 'bench', 'rostrum-bench');
  const args = ['speakers', '--url', server.http, '--admin-key-file', path.join(server.dir, 'admin-key'),
    '--secret-file', path.join(server.dir, 'secret'), '--observers', '40', '--list', '60', '--duration', '2',
    '--grant-every', '0.4', '--quiet'];
  const res = {};
  for (const form of ['delta', 'full']) {
    const h = start(form === 'full' ? [...args, '--full-state'] : args, null, bench);
    const code = await h.exited;
    assert.equal(code, 0, `${h.stdout}\n${h.stderr}`);
    const r = JSON.parse(h.stdout);
    assert.equal(r.scenario, 'speakers');
    assert.equal(r.form, form);
    assert.equal(r.connections, 101);
    assert.equal(r.errors, 0);
    assert.ok(r.events >= 5, `${r.events} events`);
    assert.equal(r.expected, r.events * 101);
    assert.equal(r.delivered, r.expected);
    assert.equal(r.event_bytes > 0, true);
    assert.ok(Math.abs(r.bytes_per_delivery - r.event_bytes / r.delivered) < 1);
    res[form] = r;
  }
  assert.ok(res.delta.bytes_per_delivery < 1024, `delta ${res.delta.bytes_per_delivery}`);
  assert.ok(res.full.bytes_per_delivery > 5 * res.delta.bytes_per_delivery,
    `full ${res.full.bytes_per_delivery}, delta ${res.delta.bytes_per_delivery}`);
});
