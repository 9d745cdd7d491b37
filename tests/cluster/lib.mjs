// Cluster test helpers: a private redis-server on a free port in a temp dir,
// N rostrum-server nodes against it (shared secret and admin key, no data
// dir), /healthz waits, kill -9 and restart helpers. Every process started
// here is killed when the test process exits (the harness kills its nodes).
// Run: cd tests && ROSTRUM_SERVER=/path/to/rostrum-server node --test cluster/
// (REDIS_SERVER overrides /usr/bin/redis-server.)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { startServer, enter, act, sleep } from '../lib/harness.mjs';

export const redisBin = process.env.REDIS_SERVER || '/usr/bin/redis-server';

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Several RESP commands over one fresh TCP connection (e.g. AUTH first),
// each answered by a one-line reply; resolves with the replies.
export function redisPipeline(port, cmds) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`redis pipeline timeout: ${JSON.stringify(buf)}`)); }, 2000);
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n');
      if (lines.length > cmds.length) { clearTimeout(t); sock.end(); resolve(lines.slice(0, cmds.length)); }
    });
    sock.write(cmds.map((args) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')).join(''));
  });
}

// One RESP command over a fresh TCP connection (no client library needed).
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error('redis command timeout')); }, 2000);
    sock.on('error', (e) => { clearTimeout(t); reject(e); });
    sock.on('data', (d) => {
      buf += d;
      if (buf.endsWith('\r\n')) { clearTimeout(t); sock.end(); resolve(buf); }
    });
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
  });
}

async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timeout (${ms} ms) waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(50);
  }
}
export { until };

// Starts a private redis-server. persist: AOF with fsync always (so that a
// SIGKILL loses nothing acknowledged). Returns a handle with kill() (SIGKILL)
// and restart() (same port, same dir, so the same AOF).
// args: more redis-server flags (e.g. --requirepass); auth: [user?, password]
// to say AUTH before the readiness PING.
export async function startRedis({ persist = true, port, args: extra = [], auth } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-redis-'));
  port = port || await freePort();
  const r = { dir, port, url: `redis://127.0.0.1:${port}`, proc: null, log: '' };
  r.start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--daemonize', 'no', '--protected-mode', 'no', '--logfile', ''];
    if (persist) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    args.push(...extra);
    const p = spawn(redisBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    r.proc = p;
    r.exited = new Promise((resolve) => p.on('exit', (code, signal) => { live.delete(p); resolve({ code, signal }); }));
    p.stdout.on('data', (d) => { r.log += d; });
    p.stderr.on('data', (d) => { r.log += d; });
    const ping = auth ? async () => (await redisPipeline(port, [['AUTH', ...auth], ['PING']]))[1]
      : () => redisCommand(port, 'PING');
    await until(async () => (await ping()).startsWith('+PONG'), 10000, `redis on ${port}:\n${r.log}`);
    // Loading the AOF answers -LOADING; PONG means it is done.
  };
  r.kill = async () => {
    if (r.proc && r.proc.exitCode === null && r.proc.signalCode === null) { r.proc.kill('SIGKILL'); await r.exited; }
  };
  r.restart = async () => { await r.kill(); await r.start(); };
  await r.start();
  return r;
}

export async function health(node) {
  const res = await fetch(node.http + '/healthz');
  return res.status;
}

export async function waitHealth(node, status = 200, ms = 15000) {
  await until(async () => (await health(node)) === status, ms, `/healthz ${status} on ${node.id}`);
}

// Starts one node against redis. id: node id; listen: reuse an address.
export async function startNode(redis, { secret, adminKey, id, listen, args = [] }) {
  const node = await startServer({
    secret, adminKey, dataDir: false, listen,
    args: ['--redis', redis.url, '--node-id', id, ...args],
  });
  node.id = id;
  await waitHealth(node, 200);
  return node;
}

// Starts redis (unless given) and n nodes sharing secret and admin key.
// args: more flags for every node (e.g. --command-burst), restarts included.
export async function startCluster(n = 3, { redis, persist = true, args = [] } = {}) {
  redis = redis || await startRedis({ persist });
  const secret = randomBytes(32).toString('hex');
  const adminKey = randomBytes(16).toString('hex');
  const nodes = [];
  for (let i = 1; i <= n; i++) nodes.push(await startNode(redis, { secret, adminKey, id: `n${i}`, args }));
  const cluster = {
    redis, secret, adminKey, nodes,
    // kill -9 a node.
    async kill9(node) { node.proc.kill('SIGKILL'); await node.exited; },
    // Starts a fresh process for node (same id, same address).
    async restart(node) {
      await node.stop('SIGKILL');
      const addr = node.http.replace(/^https?:\/\//, '');
      const fresh = await startNode(redis, { secret, adminKey, id: node.id, listen: addr, args });
      nodes[nodes.indexOf(node)] = fresh;
      return fresh;
    },
    async stop() {
      for (const nd of nodes) { try { await nd.stop('SIGKILL'); } catch { /* gone */ } }
      await redis.kill();
    },
    logs() { return nodes.map((nd) => `---- ${nd.id} ----\n${nd.log.slice(-3000)}`).join('\n') + `\n---- redis ----\n${redis.log.slice(-1500)}`; },
  };
  return cluster;
}

// Events of a client's log (live and welcome replay are separate: this is live only).
export function liveEvents(c, from = 0) {
  return c.log.slice(from).filter((m) => m.type === 'event');
}

// Asserts the seqs of evs are consecutive (no gap, no duplicate).
export function assertConsecutive(evs, what) {
  for (let i = 1; i < evs.length; i++) {
    assert.equal(evs[i].seq, evs[i - 1].seq + 1,
      `${what}: seq ${evs[i].seq} (${evs[i].name}) after ${evs[i - 1].seq} (${evs[i - 1].name}); seqs ${evs.map((e) => e.seq).join(',')}`);
  }
}

// Waits until client c has seen the event with seq >= n.
export function waitSeq(c, n, ms = 10000) {
  return c.waitFor((m) => m.type === 'event' && m.seq >= n, ms);
}

export { enter, act, sleep };

const SANITIZER = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

// Runs fn; on failure appends the tail of every node's and Redis's output to
// the error, so that a failing run carries the server log lines. A test that
// passes fails anyway if a node printed a sanitizer report meanwhile (the
// ASan+UBSan build: ROSTRUM_SERVER=.../build-san/server/rostrum-server).
export function withLogs(getCluster, fn) {
  return async (t) => {
    const before = new Map((getCluster()?.nodes || []).map((n) => [n, n.log.length]));
    try {
      await fn(t);
    } catch (e) {
      const cl = getCluster();
      const extra = cl ? `\n==== cluster logs ====\n${cl.logs()}` : '';
      try { e.message = `${e.message}${extra}`; } catch { /* read-only */ }
      throw e;
    }
    for (const n of getCluster()?.nodes || []) {
      const out = n.log.slice(before.get(n) ?? 0);
      const m = out.match(SANITIZER);
      if (m) throw new Error(`sanitizer report from ${n.id} during this test:\n${out.slice(Math.max(0, m.index - 200), m.index + 3000)}`);
    }
  };
}

// The room as client c knows it: the welcome's snapshot with the state parts
// of every later event applied (contract section 4: replace, not recompute).
export function stateOf(c, welcome) {
  const st = structuredClone(welcome.room);
  for (const e of c.log) {
    if (e.type === 'event' && e.seq > welcome.seq && e.state) Object.assign(st, structuredClone(e.state));
  }
  return st;
}

// The parts of a snapshot that must agree everywhere.
export function agreed(st) {
  return JSON.stringify({ status: st.status, queue: st.queue, floor: st.floor, muted: st.muted, settings: st.settings, agenda_item: st.agenda_item });
}

let fired = 0;
// Sends obj from p ({ c: client }) without waiting; resolves with
// { p, obj, reply, at }, at being the index of the reply in p's log.
export function fire(p, obj, ms = 60000) {
  const id = `f${++fired}`;
  p.c.send({ ...obj, id });
  return p.c.waitFor((m) => (m.type === 'ack' || m.type === 'error') && m.id === id, ms)
    .then((reply) => ({ p, obj, reply, at: p.c.log.indexOf(reply) }));
}
