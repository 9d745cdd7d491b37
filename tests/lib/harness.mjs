// Test harness: starts a real rostrum-server on a free port in a fresh
// temporary directory, mints tokens, and drives WebSocket clients.
// Every server started here is killed when the test process exits.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
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

export function mintToken(secret, claims, { alg = 'HS256', ttl = 3600, sign = true, kid } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64u(JSON.stringify(kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid }));
  const body = b64u(JSON.stringify({ exp: now + ttl, iat: now, ...claims }));
  const sig = sign ? b64u(createHmac('sha256', secret).update(`${head}.${body}`).digest()) : '';
  return `${head}.${body}.${sig}`;
}

// Starts the server. opts.args: extra flags; opts.dir: reuse a directory
// (restart on the same --data-dir); opts.dataDir: false to run without one.
// With ROSTRUM_TEST_BACKEND=redis every server started here runs on the
// Redis backend: each test directory gets its own redis-server (with an
// append-only file, so that a restart on the same directory finds its rooms
// again), started on first use and killed when the test process exits.
export const redisMode = process.env.ROSTRUM_TEST_BACKEND === 'redis';
const redises = new Map(); // dir -> { port, proc }

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

export async function startRedis(dir, { appendonly = true, args: extra = [] } = {}) {
  const known = redises.get(dir);
  if (known && known.proc.exitCode === null && known.proc.signalCode === null) return known;
  const port = known ? known.port : await freePort();
  const rdir = path.join(dir, 'redis');
  fs.mkdirSync(rdir, { recursive: true });
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', rdir, '--save', '',
    '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'always', ...extra], { stdio: 'ignore' });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  proc.unref(); // a test file ends when its tests do; the exit hook kills it
  const entry = { port, proc, url: `redis://127.0.0.1:${port}` };
  redises.set(dir, entry);
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise((resolve) => { const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); }); c.on('error', () => resolve(false)); });
    if (up) return entry;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startServer(opts = {}) {
  const dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-test-'));
  const secret = opts.secret || randomBytes(32).toString('hex');
  const adminKey = opts.adminKey || randomBytes(16).toString('hex');
  fs.writeFileSync(path.join(dir, 'secret'), secret, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'admin-key'), adminKey, { mode: 0o600 });
  const args = ['--listen', opts.listen || '127.0.0.1:0'];
  if (opts.secretFile !== false) args.push('--secret-file', path.join(dir, 'secret'));
  if (opts.adminKeyFile !== false) args.push('--admin-key-file', path.join(dir, 'admin-key'));
  if (opts.dataDir !== false) args.push('--data-dir', path.join(dir, 'data'));
  args.push(...(opts.args || []));
  if (redisMode && !args.includes('--redis') && !opts.noRedis) {
    const r = await startRedis(dir);
    args.push('--redis', r.url);
  }
  // ROSTRUM_VALGRIND=1: the server runs under valgrind; any invalid access
  // or definitely lost byte makes it exit 99 (stopChecked then fails).
  const bin = opts.bin || serverBin;
  const [cmd, cmdArgs] = process.env.ROSTRUM_VALGRIND
    ? ['valgrind', ['-q', '--error-exitcode=99', '--leak-check=full', '--errors-for-leak-kinds=definite',
      '--show-leak-kinds=definite', bin, ...args]]
    : [bin, args];
  const proc = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
  live.add(proc);
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }); }));
  const url = await new Promise((resolve, reject) => {
    // A server that does not come up in time is killed: left running, its
    // pipes would keep the test file's process (and scripts/test) alive.
    const startMs = opts.startTimeoutMs || (process.env.ROSTRUM_VALGRIND ? 30000 : 10000);
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`server did not start in ${startMs} ms:\n${log}`)); }, startMs);
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
    clientOptions: opts.clientOptions || {},
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
    this.log = []; // every message ever received, never spliced (see waitFor)
    this.lastSeq = null; // seq of the last event (or welcome) received
    this.seqErrors = []; // gaps and duplicates seen in live events
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
      this.log.push(m);
      this._track(m);
      this._wake();
    });
    this.ws.on('error', () => {});
  }

  _wake() { for (const w of this.waiters.splice(0)) w(); }

  _track(m) {
    if (!m || typeof m !== 'object') return;
    if (m.type === 'welcome' && typeof m.seq === 'number') {
      this.lastSeq = m.seq;
    } else if (m.type === 'event' && typeof m.seq === 'number') {
      if (this.lastSeq !== null && m.seq !== this.lastSeq + 1) {
        this.seqErrors.push(`event ${m.name} seq ${m.seq} after seq ${this.lastSeq}`);
      }
      if (this.lastSeq === null || m.seq > this.lastSeq) this.lastSeq = m.seq;
    }
  }

  // Index in this.log where the next message will land.
  mark() { return this.log.length; }

  // Resolves with the first message in this.log at index >= from that
  // matches pred, without consuming anything (next() consumes); rejects
  // after ms or when the connection closes first.
  async waitFor(pred = () => true, ms = 5000, from = 0) {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.log.length; i++) if (pred(this.log[i])) return this.log[i];
      from = Math.max(from, this.log.length);
      if (this.closed) throw new Error(`closed ${this.closed.code} while waiting; log tail: ${JSON.stringify(this.log.slice(-10)).slice(0, 2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting; log tail: ${JSON.stringify(this.log.slice(-10)).slice(0, 2000)}`);
      await new Promise((resolve) => { const t = setTimeout(resolve, left); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  // Waits for the event named name (and matching pred) at log index >= from.
  waitEvent(name, pred = () => true, ms = 5000, from = 0) {
    return this.waitFor((m) => m.type === 'event' && m.name === name && pred(m), ms, from);
  }

  // Messages received since mark (a copy).
  since(mark) { return this.log.slice(mark); }

  // Events in this.log since mark, optionally only those named name.
  eventsSince(mark, name) {
    return this.log.slice(mark).filter((m) => m.type === 'event' && (name === undefined || m.name === name));
  }

  // A barrier: sends a ping and waits for its pong, so that everything the
  // server queued for this connection before it read the ping has arrived.
  async sync(ms = 5000) {
    const at = this.mark();
    this.send({ type: 'ping' });
    return this.waitFor((m) => m.type === 'pong', ms, at);
  }

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
  const c = new Client(server.ws, server.clientOptions || {});
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

// ---- additions for tests/system (additive; the helpers above are unchanged) ----

let actc = 0;
// Sends a command with a fresh id and resolves with { reply, before, events }:
// the ack/error, the messages this connection received between sending and
// the reply, and the events among them. Nothing is consumed from the queue
// that next() reads.
export async function act(client, obj, ms = 5000) {
  const id = `a${++actc}`;
  const at = client.mark();
  client.send({ ...obj, id });
  const reply = await client.waitFor((m) => (m.type === 'ack' || m.type === 'error') && m.id === id, ms, at);
  const before = client.log.slice(at, client.log.indexOf(reply, at));
  return { reply, before, events: before.filter((m) => m.type === 'event'), id };
}

let roomc = 0;
// Creates a room with a fresh id; spec may give title, agenda, settings.
export async function newRoom(server, spec = {}) {
  const id = spec.id || `t${process.pid}-${++roomc}-${randomBytes(3).toString('hex')}`;
  const body = {
    id,
    title: spec.title || `Test room ${id}`,
    agenda: spec.agenda || [{ id: 'q1', title: 'First question' }, { id: 'q2', title: 'Second question' }],
    ...(spec.settings ? { settings: spec.settings } : {}),
  };
  return createRoom(server, body);
}

// Claims for sub in room with role; extra adds delegation, category, etc.
export function claims(room, role, sub, extra = {}) {
  return { sub, name: extra.name || `Name of ${sub}`, room, role, ...extra };
}

// Connects and joins, failing unless the reply is a welcome.
// Resolves with { c, w } (client and welcome).
export async function enter(server, room, role, sub, extra = {}, joinExtra = {}) {
  const { client, welcome } = await join(server, claims(room, role, sub, extra), joinExtra);
  if (welcome.type !== 'welcome') throw new Error(`join ${sub} as ${role}: ${JSON.stringify(welcome)}`);
  return { c: client, w: welcome };
}

// Opens a connection, sends frame (an object or raw string; null sends
// nothing) as the first frame, and waits for the close. Resolves with
// { close: {code, reason}, messages, ms } where ms is the time from open to close.
export async function firstFrameClose(server, frame, ms = 5000) {
  const c = new Client(server.ws, server.clientOptions || {});
  await c.opened;
  const t0 = Date.now();
  if (frame !== null) c.send(frame);
  const close = await c.waitClose(ms);
  return { close, messages: c.log, ms: Date.now() - t0 };
}

// Resolves when the server's output matches re (a RegExp), with the match.
export async function waitLog(server, re, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = server.log.match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`server output never matched ${re}:\n${server.log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Runs the server binary with args to completion (for --help and bad flags).
export function runServer(args, { ms = 10000, env = {}, bin } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin || serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${args.join(' ')} did not exit in ${ms} ms:\n${stdout}${stderr}`)); }, ms);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('exit', (code, signal) => { live.delete(p); clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

// The claims of a JWT (no verification).
export function decodeToken(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Stops the server with SIGTERM and checks that it drained and exited 0
// without a sanitizer report (the system suite runs the ASan+UBSan build).
export async function stopChecked(server) {
  const { code, signal } = await server.stop('SIGTERM');
  const tail = server.log.slice(-4000);
  if (signal !== null || code !== 0) throw new Error(`server exited with code ${code}, signal ${signal}:\n${tail}`);
  if (/AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/.test(server.log)) {
    throw new Error(`sanitizer report in the server output:\n${tail}`);
  }
}
