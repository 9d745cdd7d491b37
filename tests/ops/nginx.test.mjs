// The nginx configuration of docs/operations.md (deploy/nginx.conf), tested:
// two rostrum-server nodes on one Redis behind nginx; WebSocket joins and
// the admin API go through the proxy, and an event sent through one
// upstream reaches a client connected through the other.
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
  const port = await freePort();
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(prefix);
  const ups = [a, b].map((s) => `server ${new URL(s.http).host};`).join(' ');
  const conf = fs.readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8')
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`).replaceAll('@UPSTREAMS@', ups).replaceAll('@PREFIX@', prefix);
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const ngx = spawn('nginx', ['-c', path.join(prefix, 'nginx.conf'), '-p', prefix, '-g', 'daemon off;'], { stdio: 'ignore' });
  procs.push(ngx);
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${base}/healthz`)).status === 200);

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
