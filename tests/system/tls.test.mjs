// Contract sections 1 and 8: TLS with --tls-cert/--tls-key (https, wss).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startServer, Client, claims, stopChecked } from '../lib/harness.mjs';

let server;
let cert;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  server = await startServer({
    args: ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')],
    clientOptions: { ca: cert },
  });
});
after(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// An HTTPS request that trusts the test certificate; resolves with {status, text, json}.
function request(method, p, body, { auth = true, trust = true, rejectUnauthorized = true } = {}) {
  const ca = trust ? cert : undefined;
  return new Promise((resolve, reject) => {
    const headers = {};
    if (auth) headers.authorization = `Bearer ${server.adminKey}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const req = https.request(server.http + p, { method, headers, ca, rejectUnauthorized, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

test('the banner says https:// and /healthz answers over TLS', async () => {
  assert.match(server.http, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.ws, /^wss:\/\//);
  const res = await request('GET', '/healthz', undefined, { auth: false });
  assert.equal(res.status, 200);
  assert.equal(res.json.status, 'ok');
  // The server presents the configured certificate.
  const insecure = await request('GET', '/healthz', undefined, { auth: false, trust: false, rejectUnauthorized: false });
  assert.equal(insecure.status, 200);
  await assert.rejects(request('GET', '/healthz', undefined, { auth: false, trust: false }), 'an unknown CA was not refused');
});

test('the admin API and a wss join work over TLS', async () => {
  const id = `tls-${process.pid}`;
  const created = await request('POST', '/api/rooms', { id, title: 'TLS room', agenda: [] });
  assert.equal(created.status, 201, created.text);
  const tok = await request('POST', `/api/rooms/${id}/tokens`, { sub: 'tls-d1', name: 'Secure', role: 'delegate' });
  assert.equal(tok.status, 201);
  assert.ok(tok.json.url.startsWith(`${server.http}/#t=`), tok.json.url);
  for (const opts of [{ ca: cert }, { rejectUnauthorized: false }]) {
    const c = new Client(server.ws, opts);
    await c.opened;
    c.send({ type: 'join', token: server.token(claims(id, 'delegate', 'tls-d1')) });
    const w = await c.next((m) => m.type === 'welcome' || m.type === 'error');
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    c.send({ type: 'say', text: 'over TLS', id: 's1' });
    const ack = await c.reply('s1');
    assert.equal(ack.type, 'ack');
    c.close();
  }
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
