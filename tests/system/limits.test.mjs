// Limits (each with a flag) and the defences of docs/security.md: secret
// files readable by others, connections and new WebSockets per address,
// the Origin of a page, rooms per node, connections per room, admin body
// size, idle connections, message length, command rate, and a TLS
// certificate reloaded on SIGHUP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startServer, createRoom, join, command, Client, runServer, redisMode, stopChecked, sleep } from '../lib/harness.mjs';

// A raw WebSocket upgrade: resolves with the HTTP status (101 when accepted).
// from: the local address to connect from (default 127.0.0.1).
const upgrade = (server, headers = {}, from = undefined) => new Promise((resolve) => {
  const req = http.request(server.http + '/ws', {
    localAddress: from,
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'rostrum.v1', ...headers },
  });
  req.on('upgrade', (res, socket) => { socket.destroy(); resolve(101); });
  req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
  req.on('error', () => resolve('reset'));
  req.end();
});

test('a secret or admin key file readable by other users is refused at start', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-perm-'));
  const f = path.join(dir, 'secret');
  fs.writeFileSync(f, 'a-secret-of-enough-length-0123', { mode: 0o644 });
  fs.chmodSync(f, 0o644);
  const r = await runServer(['--listen', '127.0.0.1:0', '--secret-file', f]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /accessible by other users.*chmod 600/s);
  const r2 = await runServer(['--listen', '127.0.0.1:0', '--admin-key-file', f]);
  assert.notEqual(r2.code, 0);
});

// By default loopback is a trusted proxy (--trusted-proxy), and a trusted
// peer that names no client is not limited per address: these tests trust
// nobody, so that the test's own 127.0.0.1 is an ordinary client.
test('--max-conns-per-ip and --join-rate refuse upgrades with 429', async () => {
  const s = await startServer({ args: ['--max-conns-per-ip', '2', '--join-rate', '1000', '--trusted-proxy', 'none'] });
  const a = new Client(s.ws); await a.opened;
  const b = new Client(s.ws); await b.opened;
  assert.equal(await upgrade(s), 429);
  a.close();
  await a.waitClose();
  await sleep(100);
  const c = new Client(s.ws); await c.opened; // a place came free
  b.close(); c.close();
  await stopChecked(s);

  const r = await startServer({ args: ['--join-rate', '2', '--trusted-proxy', 'none'] }); // bursts of 4
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push(await upgrade(r));
  assert.deepEqual(codes.slice(0, 4), [101, 101, 101, 101]);
  assert.ok(codes.slice(4).includes(429), `no 429 in ${codes}`);
  await stopChecked(r);
});

test('--trusted-proxy: the client a trusted proxy names is limited; a forged X-Forwarded-For is not believed', async () => {
  const s = await startServer({ args: ['--max-conns-per-ip', '2', '--join-rate', '1000', '--trusted-proxy', '127.0.0.1/32,::1'] });
  const held = [];
  const open = async (headers, from) => {
    const c = new Client(s.ws, { headers, localAddress: from });
    await c.opened;
    held.push(c);
  };
  // 127.0.0.2 is not a trusted proxy: whatever it writes in
  // X-Forwarded-For, it is limited as 127.0.0.2.
  await open({ 'x-forwarded-for': '198.51.100.1' }, '127.0.0.2');
  await open({ 'x-forwarded-for': '198.51.100.2' }, '127.0.0.2');
  assert.equal(await upgrade(s, { 'x-forwarded-for': '198.51.100.3' }, '127.0.0.2'), 429);
  assert.equal(await upgrade(s, {}, '127.0.0.2'), 429);
  // The trusted proxy (127.0.0.1) names its clients: each has its own limit,
  // the right-most untrusted entry is the client (the rest the client wrote).
  await open({ 'x-forwarded-for': '203.0.113.1' });
  await open({ 'x-forwarded-for': '10.9.9.9, 203.0.113.1' });
  assert.equal(await upgrade(s, { 'x-forwarded-for': '203.0.113.1' }), 429);
  assert.equal(await upgrade(s, { 'x-forwarded-for': '203.0.113.2, 203.0.113.1' }), 429);
  await open({ 'x-forwarded-for': '203.0.113.1, 203.0.113.2' });
  // A chain of trusted proxies: trusted entries are skipped from the right.
  assert.equal(await upgrade(s, { 'x-forwarded-for': '203.0.113.1, 127.0.0.1' }), 429);
  // An entry that is not an address where the client should be: limited as
  // the proxy itself, never unlimited.
  await open({ 'x-forwarded-for': 'unknown' });
  await open({ 'x-forwarded-for': '203.0.113.9, _hidden' });
  assert.equal(await upgrade(s, { 'x-forwarded-for': 'garbage' }), 429);
  // The trusted proxy without the header: only the global limits.
  for (let i = 0; i < 5; i++) await open({});
  const m = (await s.api('GET', '/metrics')).text;
  const metric = (name) => Number(m.match(new RegExp(`^${name} (\\d+)`, 'm'))[1]);
  assert.equal(metric('rostrum_client_addresses'), 4); // 127.0.0.2, 203.0.113.1, 203.0.113.2, 127.0.0.1
  assert.equal(metric('rostrum_forwarded_connections'), 3);
  assert.equal(metric('rostrum_unlimited_connections'), 5);
  assert.equal(Number(m.match(/^rostrum_upgrades_refused_total\{reason="too_many"\} (\d+)/m)[1]), 6);
  assert.match(s.log, /refused a WebSocket from 127\.0\.0\.2: too many connections from that address/);
  for (const c of held) c.close();
  await stopChecked(s);

  const bad = await runServer(['--listen', '127.0.0.1:0', '--trusted-proxy', '10.0.0.0/8', '--trusted-proxy', '10.0.0.1/8']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--trusted-proxy: '10\.0\.0\.1\/8' has bits set beyond its \/8 prefix/);
});

test('a page of another site may not open /ws; the own page and --allowed-origin may', async () => {
  const s = await startServer({ args: ['--allowed-origin', 'https://portal.example.org'] });
  const host = new URL(s.http).host;
  assert.equal(await upgrade(s, { origin: 'https://evil.example' }), 403);
  assert.equal(await upgrade(s, { origin: `http://${host}` }), 101);
  assert.equal(await upgrade(s, { origin: 'https://portal.example.org' }), 101);
  assert.equal(await upgrade(s), 101); // no Origin: not a browser page
  await stopChecked(s);
});

test('--max-rooms, --max-room-connections, --max-body', async () => {
  const s = await startServer({ args: ['--max-rooms', '1', '--max-room-connections', '1', '--max-body', '1024'] });
  await createRoom(s, { id: 'only', title: 'Only' });
  if (!redisMode) assert.equal((await s.api('POST', '/api/rooms', { id: 'second', title: 'Second' })).status, 503);
  const first = await join(s, { sub: 'a', name: 'A', room: 'only', role: 'delegate' });
  assert.equal(first.welcome.type, 'welcome');
  const second = await join(s, { sub: 'b', name: 'B', room: 'only', role: 'delegate' });
  assert.equal(second.welcome.code, 'unavailable');
  assert.equal((await second.client.waitClose()).code, 1013);
  const big = { id: 'x', title: 'y'.repeat(2000) };
  assert.equal((await s.api('POST', '/api/rooms', big)).status, 413);
  first.client.close();
  await stopChecked(s);
});

test('--idle-timeout closes a joined connection that sends nothing; pings keep one open', async () => {
  const s = await startServer({ args: ['--idle-timeout', '2'] });
  await createRoom(s, { id: 'idle', title: 'Idle' });
  const quiet = await join(s, { sub: 'q', name: 'Q', room: 'idle', role: 'observer' });
  const busy = await join(s, { sub: 'b', name: 'B', room: 'idle', role: 'observer' });
  const pinger = setInterval(() => busy.client.send({ type: 'ping' }), 500);
  const closed = await quiet.client.waitClose(6000);
  clearInterval(pinger);
  assert.equal(closed.code, 1001);
  assert.equal(busy.client.closed, null);
  busy.client.close();
  await stopChecked(s);
});

test('--max-text-chars and --command-rate/--command-burst', async () => {
  const s = await startServer({ args: ['--max-text-chars', '10', '--command-rate', '1', '--command-burst', '3'] });
  await createRoom(s, { id: 'short', title: 'Short', settings: { chat: 'open' } });
  const { client } = await join(s, { sub: 'd', name: 'D', room: 'short', role: 'delegate' });
  assert.equal((await command(client, { type: 'say', text: '0123456789' })).type, 'ack');
  const long = await command(client, { type: 'say', text: '0123456789x' });
  assert.equal(long.code, 'too_large');
  // A refusal for length costs no token: two more fit in the burst of 3.
  assert.equal((await command(client, { type: 'say', text: 'second' })).type, 'ack');
  assert.equal((await command(client, { type: 'say', text: 'third' })).type, 'ack');
  assert.equal((await command(client, { type: 'say', text: 'fourth' })).code, 'rate_limited');
  client.close();
  await stopChecked(s);
});

test('TLS: 1.0 and 1.1 refused; SIGHUP reloads the certificate', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const make = (cn) => execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  make('first.example');
  fs.chmodSync(key, 0o600);
  const s = await startServer({ args: ['--tls-cert', cert, '--tls-key', key] });
  const { port } = new URL(s.http);
  const peerCN = () => new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const cn = sock.getPeerCertificate().subject.CN;
      sock.end();
      resolve(cn);
    });
    sock.on('error', reject);
  });
  assert.equal(await peerCN(), 'first.example');
  // TLS 1.2 or newer only: an older handshake is refused by the server.
  const old = await new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => { sock.end(); resolve('accepted'); });
    sock.on('error', (e) => resolve(e.code || e.message));
  });
  assert.notEqual(old, 'accepted');
  assert.match(String(old), /VERSION|PROTOCOL|ALERT/i);
  make('second.example');
  s.proc.kill('SIGHUP');
  const until = Date.now() + 5000;
  let cn;
  while ((cn = await peerCN()) !== 'second.example' && Date.now() < until) await sleep(100);
  assert.equal(cn, 'second.example');
  assert.match(s.log, /TLS certificate reloaded/);
  await stopChecked(s);
});
