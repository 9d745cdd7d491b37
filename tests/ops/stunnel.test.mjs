// Redis over TLS between machines (contract section 11; docs/operations.md):
// the stunnel4 recipe of deploy/stunnel-redis-{server,client}.conf, run on
// loopback: redis-server (requirepass) <- stunnel4 server end (certificate,
// client certificates required) <- a recording TCP relay standing for the
// network <- stunnel4 client end (checks the server's certificate and name)
// <- rostrum-server. A meeting runs through it; what crossed the "network"
// is TLS (no password, no room title, no command in it); a peer without a
// client certificate gets nothing from Redis; a client end that expects
// another server name refuses the connection (the node reports 503).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, root, enter, act } from '../lib/harness.mjs';

const freePort = () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const until = async (fn, ms = 15000, what = 'condition') => { const end = Date.now() + ms; for (;;) { try { if (await fn()) return; } catch { /* not yet */ } if (Date.now() > end) throw new Error(`timed out: ${what}`); await new Promise((r) => setTimeout(r, 100)); } };
const stunnelBin = fs.existsSync('/usr/bin/stunnel4') ? '/usr/bin/stunnel4' : 'stunnel';

const procs = [];
const servers = [];
after(async () => {
  for (const s of servers) { try { await s.stop('SIGKILL'); } catch { /* gone */ } }
  for (const p of procs) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
});

function cert(dir, name, cn) {
  const key = path.join(dir, `${name}.key`);
  const crt = path.join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', crt, '-days', '2', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
  fs.chmodSync(key, 0o600);
  return { key, crt };
}

function stunnel(dir, name, template, values) {
  let conf = fs.readFileSync(path.join(root, 'deploy', template), 'utf8');
  for (const [k, v] of Object.entries({ FOREGROUND: 'yes', PID: '', ...values })) conf = conf.replaceAll(`@${k}@`, v);
  assert.ok(!/@[A-Z_]+@/.test(conf), `unfilled placeholder in ${template}`);
  const file = path.join(dir, `${name}.conf`);
  fs.writeFileSync(file, conf);
  const p = spawn(stunnelBin, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.log = '';
  p.stdout.on('data', (d) => { p.log += d; });
  p.stderr.on('data', (d) => { p.log += d; });
  procs.push(p);
  return p;
}

const listening = (port) => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); }); s.on('error', () => resolve(false)); });

// AUTH and PING over TLS to the far end (servername redis.internal);
// resolves with what came back ("" when the handshake failed).
function tlsPing(port, ca, clientCert, pw) {
  return new Promise((resolve) => {
    let got = '';
    const opts = { host: '127.0.0.1', port, ca: fs.readFileSync(ca), servername: 'redis.internal' };
    if (clientCert) { opts.cert = fs.readFileSync(clientCert.crt); opts.key = fs.readFileSync(clientCert.key); }
    const s = tls.connect(opts, () => s.write(`*2\r\n$4\r\nAUTH\r\n$${pw.length}\r\n${pw}\r\n*1\r\n$4\r\nPING\r\n`));
    s.on('data', (d) => { got += d.toString('latin1'); if (got.includes('+PONG')) s.end(); });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    setTimeout(() => { s.destroy(); resolve(got); }, 5000);
  });
}

// The "network" between the machines: a relay that keeps every byte.
async function relay(to) {
  const port = await freePort();
  const seen = [];
  const srv = net.createServer((a) => {
    const b = net.connect(to, '127.0.0.1');
    a.on('data', (d) => { seen.push(Buffer.from(d)); b.write(d); });
    b.on('data', (d) => { seen.push(Buffer.from(d)); a.write(d); });
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
    a.on('close', () => b.end());
    b.on('close', () => a.end());
  });
  await new Promise((r) => srv.listen(port, '127.0.0.1', r));
  after(() => srv.close());
  return { port, bytes: () => Buffer.concat(seen) };
}

test('a meeting through two stunnel4 ends: TLS on the wire, mutual certificates, the name checked', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-stunnel-'));
  const PW = `redis-pw-${randomBytes(12).toString('hex')}`;
  const server = cert(dir, 'redis-end', 'redis.internal');
  const client = cert(dir, 'node-end', 'node-1.internal');

  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--requirepass', PW], { stdio: 'ignore' });
  procs.push(redis);
  await until(() => listening(redisPort), 10000, 'redis');

  const tlsPort = await freePort();
  const far = stunnel(dir, 'server-end', 'stunnel-redis-server.conf', {
    ACCEPT: `127.0.0.1:${tlsPort}`, REDIS: `127.0.0.1:${redisPort}`, CERT: server.crt, KEY: server.key, CLIENT_CA: client.crt,
  });
  await until(() => listening(tlsPort), 10000, `stunnel server end:\n${far.log}`);
  const wire = await relay(tlsPort);
  const localPort = await freePort();
  const near = stunnel(dir, 'client-end', 'stunnel-redis-client.conf', {
    ACCEPT: `127.0.0.1:${localPort}`, REMOTE: `127.0.0.1:${wire.port}`, SERVER_CA: server.crt, SERVER_NAME: 'redis.internal',
    CERT: client.crt, KEY: client.key,
  });
  await until(() => listening(localPort), 10000, `stunnel client end:\n${near.log}`);

  const pwFile = path.join(dir, 'redis-password');
  fs.writeFileSync(pwFile, `${PW}\n`, { mode: 0o600 });
  const node = await startServer({ dataDir: false, args: ['--redis', `redis://127.0.0.1:${localPort}`, '--redis-password-file', pwFile] });
  servers.push(node);
  await until(async () => (await fetch(`${node.http}/healthz`)).status === 200, 15000, `healthz:\n${node.log}\n${near.log}\n${far.log}`);
  const TITLE = `Tunnelled meeting ${randomBytes(4).toString('hex')}`;
  assert.equal((await node.api('POST', '/api/rooms', { id: 'tunnelled', title: TITLE })).status, 201);
  const { c } = await enter(node, 'tunnelled', 'delegate', 'fr');
  const SAID = `said through the tunnel ${randomBytes(4).toString('hex')}`;
  const { reply } = await act(c, { type: 'say', text: SAID });
  assert.equal(reply.type, 'ack');

  // What crossed the network: TLS records only (content type 22/23/20/21,
  // version 3.x), and none of the secrets or the meeting in clear.
  const bytes = wire.bytes();
  assert.ok(bytes.length > 1000, `only ${bytes.length} bytes crossed`);
  assert.equal(bytes[0], 0x16, 'starts with a TLS handshake');
  const text = bytes.toString('latin1');
  for (const clear of [PW, TITLE, SAID, 'AUTH', 'EVALSHA', 'XADD', 'SUBSCRIBE', 'rostrum:']) {
    assert.ok(!text.includes(clear), `"${clear}" crossed the network in clear`);
  }

  // A peer without a client certificate gets nothing from Redis: a plain
  // RESP PING to the TLS port is answered by no PONG.
  const plain = await new Promise((resolve) => {
    const s = net.connect(tlsPort, '127.0.0.1', () => s.write(`*2\r\n$4\r\nAUTH\r\n$${PW.length}\r\n${PW}\r\n*1\r\n$4\r\nPING\r\n`));
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
    setTimeout(() => { s.destroy(); resolve(got); }, 3000);
  });
  assert.ok(!plain.includes('+PONG') && !plain.includes('+OK'), `plain text reached Redis: ${JSON.stringify(plain)}`);
  // Over TLS: without a client certificate the far end refuses the
  // handshake; with the node's certificate the same request works.
  const without = await tlsPing(tlsPort, server.crt, null, PW);
  assert.ok(!without.includes('+PONG'), `no client certificate, yet: ${JSON.stringify(without)}`);
  const withCert = await tlsPing(tlsPort, server.crt, client, PW);
  assert.match(withCert, /\+PONG/, 'with the node certificate the same request works');

  // A client end that expects another name refuses the far end: the node
  // cannot reach Redis and says so (/healthz 503).
  const wrongPort = await freePort();
  stunnel(dir, 'wrong-name', 'stunnel-redis-client.conf', {
    ACCEPT: `127.0.0.1:${wrongPort}`, REMOTE: `127.0.0.1:${tlsPort}`, SERVER_CA: server.crt, SERVER_NAME: 'not-redis.internal',
    CERT: client.crt, KEY: client.key,
  });
  await until(() => listening(wrongPort), 10000, 'stunnel wrong-name end');
  const lost = await startServer({ dataDir: false, args: ['--redis', `redis://127.0.0.1:${wrongPort}`, '--redis-password-file', pwFile] });
  servers.push(lost);
  assert.equal((await fetch(`${lost.http}/healthz`)).status, 503);
  await c.close();
});
