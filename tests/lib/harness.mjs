// Test harness: starts a real rostrum-server on a free port in a fresh
// temporary directory, mints tokens, and drives WebSocket clients.
// Every server started here is killed when the test process exits.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const serverBin = process.env.ROSTRUM_SERVER || path.join(root, 'build', 'server', 'rostrum-server');

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

const b64u = (b) => Buffer.from(b).toString('base64url');

export function mintToken(secret, claims, { alg = 'HS256', ttl = 3600, sign = true } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64u(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64u(JSON.stringify({ exp: now + ttl, iat: now, ...claims }));
  const sig = sign ? b64u(createHmac('sha256', secret).update(`${head}.${body}`).digest()) : '';
  return `${head}.${body}.${sig}`;
}

// Starts the server. opts.args: extra flags; opts.dir: reuse a directory
// (restart on the same --data-dir); opts.dataDir: false to run without one.
export async function startServer(opts = {}) {
  const dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-test-'));
  const secret = opts.secret || randomBytes(32).toString('hex');
  const adminKey = opts.adminKey || randomBytes(16).toString('hex');
  fs.writeFileSync(path.join(dir, 'secret'), secret, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'admin-key'), adminKey, { mode: 0o600 });
  const args = ['--listen', opts.listen || '127.0.0.1:0',
    '--secret-file', path.join(dir, 'secret'),
    '--admin-key-file', path.join(dir, 'admin-key')];
  if (opts.dataDir !== false) args.push('--data-dir', path.join(dir, 'data'));
  args.push(...(opts.args || []));
  const proc = spawn(opts.bin || serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
  live.add(proc);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 10000);
    const onData = (d) => {
      log += d;
      const m = log.match(/rostrum listening on (https?):\/\/([^\s]+)/);
      if (m) { clearTimeout(timer); resolve(`${m[1]}://${m[2]}`); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    exited.then(() => { clearTimeout(timer); reject(new Error(`server exited:\n${log}`)); });
  });
  const http = url;
  const ws = url.replace(/^http/, 'ws') + '/ws';
  const server = {
    proc, dir, secret, adminKey, http, ws, exited,
    get log() { return log; },
    token: (claims, o) => mintToken(secret, claims, o),
    api: (method, p, body, headers = {}) => api(http, adminKey, method, p, body, headers),
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      return exited;
    },
  };
  return server;
}

export async function api(base, adminKey, method, p, body, headers = {}) {
  const h = { ...headers };
  if (adminKey && !('authorization' in h)) h.authorization = `Bearer ${adminKey}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(base + p, { method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// A WebSocket client that queues every message so tests can wait for the
// next one matching a predicate, in order.
export class Client {
  constructor(url, { protocol = 'rostrum.v1', ...wsOpts } = {}) {
    this.messages = [];
    this.waiters = [];
    this.closed = null;
    this.ws = new WebSocket(url, protocol === null ? [] : protocol, { perMessageDeflate: false, ...wsOpts });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closedP = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      resolve(this.closed);
      this._wake();
    }));
    this.ws.on('message', (data, isBinary) => {
      let m;
      try { m = JSON.parse(data.toString()); } catch { m = { unparsable: data.toString(), isBinary }; }
      this.messages.push(m);
      this._wake();
    });
    this.ws.on('error', () => {});
  }

  _wake() { for (const w of this.waiters.splice(0)) w(); }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  // Resolves with the first queued message matching pred (removing it and
  // every message before it), or rejects after ms.
  async next(pred = () => true, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(0, i + 1)[i];
      if (this.closed) throw new Error(`closed ${this.closed.code} while waiting; queued: ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting; queued: ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  nextType(type, ms) { return this.next((m) => m.type === type, ms); }
  nextEvent(name, ms) { return this.next((m) => m.type === 'event' && m.name === name, ms); }
  reply(id, ms) { return this.next((m) => (m.type === 'ack' || m.type === 'error') && m.id === id, ms); }

  async waitClose(ms = 5000) {
    const t = new Promise((_, reject) => setTimeout(() => reject(new Error('no close')), ms));
    return Promise.race([this.closedP, t]);
  }

  close() { try { this.ws.close(); } catch { /* already */ } }
}

let idc = 0;
// Connects, joins with token and returns { client, welcome }.
export async function join(server, claims, extra = {}) {
  const c = new Client(server.ws);
  await c.opened;
  c.send({ type: 'join', token: typeof claims === 'string' ? claims : server.token(claims), ...extra });
  const welcome = await c.next((m) => m.type === 'welcome' || m.type === 'error');
  return { client: c, welcome };
}

// Sends a command with a fresh id and resolves with its ack or error.
export async function command(client, obj, ms) {
  const id = `c${++idc}`;
  client.send({ ...obj, id });
  return client.reply(id, ms);
}

export async function createRoom(server, body) {
  const res = await server.api('POST', '/api/rooms', body);
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${res.text}`);
  return res.json;
}
