// The nginx configuration of docs/operations.md (deploy/nginx.conf), tested:
// two rostrum-server nodes on one Redis behind nginx; WebSocket joins and
// the admin API go through the proxy, and an event sent through one
// upstream reaches a client connected through the other. And 3,000 clients
// through nginx to one node: the per-address limits count each client (its
// address from X-Forwarded-For), not the proxy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startServer, Client, command, root, mintToken } from '../lib/harness.mjs';

const have = (cmd) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
const freePort = () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const until = async (fn, ms = 10000) => { const end = Date.now() + ms; for (;;) { try { if (await fn()) return; } catch { /* not yet */ } if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 100)); } };

const procs = [];
after(() => { for (const p of procs) p.kill('SIGKILL'); });

// Starts nginx with deploy/nginx.conf in front of the given servers;
// resolves with its base URL.
async function startNginx(dir, servers) {
  const port = await freePort();
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(prefix);
  const ups = servers.map((s) => `server ${new URL(s.http).host};`).join(' ');
  const conf = fs.readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8')
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`).replaceAll('@UPSTREAMS@', ups).replaceAll('@PREFIX@', prefix);
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const ngx = spawn('nginx', ['-c', path.join(prefix, 'nginx.conf'), '-p', prefix, '-g', 'daemon off;'], { stdio: 'ignore' });
  procs.push(ngx);
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${base}/healthz`)).status === 200);
  return base;
}

test('nginx in front of two nodes proxies the API and WebSockets', { skip: !have('nginx') || !have('redis-server') }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-nginx-'));
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  procs.push(redis);
  await until(() => new Promise((resolve) => { const s = net.connect(redisPort, '127.0.0.1', () => { s.end(); resolve(true); }); s.on('error', () => resolve(false)); }));
  const common = { dataDir: false, secret: 'nginx-test-secret-0123456789', adminKey: 'nginx-test-admin-key-0123' };
  const a = await startServer({ ...common, args: ['--redis', `redis://127.0.0.1:${redisPort}`, '--node-id', 'ngx-a'] });
  const b = await startServer({ ...common, args: ['--redis', `redis://127.0.0.1:${redisPort}`, '--node-id', 'ngx-b'] });
  after(() => Promise.all([a.stop(), b.stop()]));
  const base = await startNginx(dir, [a, b]);
  const port = new URL(base).port;

  const auth = { authorization: `Bearer ${common.adminKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/api/rooms`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'behind-nginx', title: 'Behind nginx' }) });
  assert.equal(created.status, 201);
  const tok = await (await fetch(`${base}/api/rooms/behind-nginx/tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ sub: 'fr', name: 'France', role: 'delegate' }) })).json();
  assert.ok(tok.url.startsWith(`${base}/#t=`), `invite URL keeps the proxy's host: ${tok.url}`);

  // least_conn spreads the two WebSockets over both nodes.
  const clients = [];
  for (const [sub, role] of [['fr', 'delegate'], ['de', 'delegate']]) {
    const c = new Client(`ws://127.0.0.1:${port}/ws`);
    await c.opened;
    c.send({ type: 'join', token: mintToken(common.secret, { sub, name: sub, room: 'behind-nginx', role }) });
    assert.equal((await c.nextType('welcome')).type, 'welcome');
    clients.push(c);
  }
  const ack = await command(clients[0], { type: 'say', text: 'through the proxy' });
  assert.equal(ack.type, 'ack');
  const ev = await clients[1].next((m) => m.type === 'event' && m.name === 'message');
  assert.equal(ev.data.text, 'through the proxy');
  assert.equal(ev.seq, ack.seq);
  const perNode = await Promise.all([a, b].map(async (s) => (await s.api('GET', '/metrics')).text.match(/^rostrum_joined_connections (\d+)/m)[1]));
  assert.deepEqual(perNode.map(Number).sort(), [1, 1], 'one WebSocket on each node');
  for (const c of clients) c.close();
});

// Without --trusted-proxy every client behind nginx would be the proxy's
// 127.0.0.1, and the default limits (2,000 WebSockets and 500 new ones per
// second per address) would cap the meeting. nginx is trusted here as the
// one proxy (127.0.0.1/32), the clients come from four other loopback
// addresses (750 each: under both limits), so each is counted as itself.
test('3,000 clients through nginx to one node all join; each client address is counted', { skip: !have('nginx') }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-nginx3k-'));
  const s = await startServer({ dataDir: false, noRedis: true, args: ['--trusted-proxy', '127.0.0.1/32'] });
  after(() => s.stop());
  const base = await startNginx(dir, [s]);
  assert.equal((await s.api('POST', '/api/rooms', { id: 'plenary', title: 'Plenary' })).status, 201);
  const N = 3000;
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  const clients = [];
  const joinOne = async (i) => {
    const c = new Client(`${base.replace('http', 'ws')}/ws`, { localAddress: sources[i % sources.length] });
    clients.push(c);
    await c.opened;
    c.send({ type: 'join', token: s.token({ sub: `o${i}`, name: `Observer ${i}`, room: 'plenary', role: 'observer' }) });
    const w = await c.next((m) => m.type === 'welcome' || m.type === 'error', 30000);
    return w.type;
  };
  // 100 joins in flight at a time.
  const results = [];
  for (let i = 0; i < N; i += 100) {
    results.push(...await Promise.all(Array.from({ length: Math.min(100, N - i) }, (_, k) => joinOne(i + k).catch((e) => e.message))));
  }
  const counts = {};
  for (const r of results) counts[r] = (counts[r] || 0) + 1;
  assert.deepEqual(counts, { welcome: N });
  const m = (await s.api('GET', '/metrics')).text;
  const metric = (name) => Number(m.match(new RegExp(`^${name} (\\d+)`, 'm'))[1]);
  assert.equal(metric('rostrum_joined_connections'), N);
  assert.equal(metric('rostrum_forwarded_connections'), N);
  assert.equal(metric('rostrum_client_addresses'), sources.length);
  for (const c of clients) c.close();
});
