// Contract sections 1 and 8: the HTTP endpoints beside /ws and the command line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startServer, runServer, newRoom, enter, act, waitLog, decodeToken, api, Client,
  stopChecked,
} from '../lib/harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const get = (p, headers = {}) => fetch(server.http + p, { headers });

test('GET /healthz is 200 {"status":"ok"}', async () => {
  const res = await get('/healthz');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /json/);
  const body = await res.json();
  assert.equal(body.status, 'ok');
});

test('GET / serves the web client HTML', async () => {
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /text\/html/);
  const body = await res.text();
  assert.match(body, /<!doctype html|<html/i);
});

test('every file index.html refers to is served, with a fitting content type', async () => {
  const html = await (await get('/')).text();
  const refs = [...html.matchAll(/(?:src|href)="([^"#?]+)[^"]*"/g)].map((m) => m[1])
    .filter((u) => !/^(https?:|data:|mailto:|\/\/)/.test(u));
  assert.ok(refs.some((u) => u.endsWith('.js')), `index.html refers to no script: ${refs}`);
  for (const ref of refs) {
    const res = await get(new URL(ref, server.http + '/').pathname);
    const body = await res.text();
    assert.equal(res.status, 200, ref);
    assert.ok(body.length > 0, `${ref} is empty`);
    const type = res.headers.get('content-type') || '';
    if (ref.endsWith('.js') || ref.endsWith('.mjs')) assert.match(type, /javascript/, `${ref}: ${type}`);
    if (ref.endsWith('.css')) assert.match(type, /text\/css/, `${ref}: ${type}`);
  }
});

// A raw HTTP/1.1 request, so that the path reaches the server unnormalised.
function rawGet(p) {
  return new Promise((resolve, reject) => {
    const u = new URL(server.http);
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`GET ${p} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('close', () => resolve(data));
    sock.on('error', reject);
    setTimeout(() => { sock.destroy(); resolve(data); }, 3000);
  });
}

test('static files never leave the web root (path traversal)', async () => {
  for (const p of ['/../../../../../../etc/passwd', '/js/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/js/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd', '/....//....//etc/passwd']) {
    const res = await rawGet(p);
    assert.doesNotMatch(res, /root:.*:0:0:/, `${p} served /etc/passwd`);
    assert.doesNotMatch(res.split('\r\n')[0] || '', / 200 /, `${p}: ${res.split('\r\n')[0]}`);
  }
});

test('an unknown path is 404', async () => {
  for (const p of ['/no-such-file-here', '/api-nope', '/healthzz', '/static/../../etc/passwd']) {
    const res = await get(p);
    await res.arrayBuffer();
    assert.equal(res.status, 404, p);
  }
});

test('GET /ws without an upgrade is not a 200 page', async () => {
  const res = await get('/ws');
  await res.arrayBuffer();
  assert.ok(res.status >= 400, `status ${res.status}`);
});

// One Prometheus text-format sample line: name{labels} value [timestamp].
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,\s*)?)*\})?\s+(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)(\s+-?\d+)?$/;

async function scrape() {
  const res = await get('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /text\/plain/);
  const text = await res.text();
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(SAMPLE);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.push({ line, name: m[1], value: Number(m[5]) });
  }
  return { text, samples };
}

const value = (samples, name) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

test('GET /metrics is Prometheus text with the rostrum metrics', async () => {
  const room = await newRoom(server);
  const { c } = await enter(server, room.id, 'delegate', 'm-d1');
  const before = await scrape();
  assert.equal((await act(c, { type: 'request_floor' })).reply.type, 'ack');
  const err = (await act(c, { type: 'withdraw', request_id: 'no-such-request' })).reply;
  assert.equal(err.code, 'not_found');
  const { text, samples } = await scrape();
  for (const name of ['rostrum_connections', 'rostrum_rooms', 'rostrum_frames_in_total', 'rostrum_frames_out_total',
    'rostrum_commands_total', 'rostrum_errors_total', 'rostrum_send_queue_drops_total']) {
    assert.ok(samples.some((s) => s.name === name), `metric ${name} missing:\n${text}`);
  }
  assert.ok(value(samples, 'rostrum_connections') >= 1, 'rostrum_connections counts the open connection');
  assert.ok(value(samples, 'rostrum_rooms') >= 1, 'rostrum_rooms counts the room');
  assert.ok(value(samples, 'rostrum_frames_in_total') >= value(before.samples, 'rostrum_frames_in_total') + 2);
  assert.ok(value(samples, 'rostrum_frames_out_total') > value(before.samples, 'rostrum_frames_out_total'));
  assert.ok(samples.some((s) => s.name === 'rostrum_commands_total' && /type="request_floor"/.test(s.line) && /result="/.test(s.line)),
    `rostrum_commands_total{type="request_floor",result=...} missing:\n${text}`);
  assert.ok(samples.some((s) => s.name === 'rostrum_errors_total' && /code="not_found"/.test(s.line) && s.value >= 1),
    `rostrum_errors_total{code="not_found"} missing:\n${text}`);
  // TYPE lines declare the counters and gauges.
  assert.match(text, /^# TYPE rostrum_frames_in_total counter$/m);
  assert.match(text, /^# TYPE rostrum_connections gauge$/m);
  c.close();
});

test('--help exits 0 and lists every flag of section 8', async () => {
  const r = await runServer(['--help']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  for (const flag of ['--listen', '--redis', '--secret-file', '--admin-key-file', '--tls-cert', '--tls-key',
    '--data-dir', '--node-id', '--demo']) {
    assert.ok(out.includes(flag), `--help does not mention ${flag}:\n${out}`);
  }
});

test('an unknown flag exits non-zero with a message', async () => {
  const r = await runServer(['--no-such-flag']);
  assert.notEqual(r.code, 0);
  assert.ok((r.stdout + r.stderr).trim().length > 0, 'no message');
  assert.match(r.stdout + r.stderr, /no-such-flag/);
});

test('a flag without its value exits non-zero with a message', async () => {
  const r = await runServer(['--listen']);
  assert.notEqual(r.code, 0);
  assert.ok((r.stdout + r.stderr).trim().length > 0, 'no message');
});

test('--demo prints one invite URL per role and creates closing-discussion', async (t) => {
  const demo = await startServer({ args: ['--demo'] });
  t.after(() => stopChecked(demo));
  const urlRe = /(https?:\/\/[^\s"']+\/#t=([A-Za-z0-9_.-]+))/g;
  await waitLog(demo, /(\/#t=[\s\S]*){3}/, 5000);
  const tokens = [...demo.log.matchAll(urlRe)].map((m) => m[2]);
  assert.ok(tokens.length >= 3, demo.log);
  const roles = tokens.map((tk) => decodeToken(tk));
  assert.deepEqual(new Set(roles.map((c) => c.role)), new Set(['moderator', 'delegate', 'observer']));
  for (const c of roles) assert.equal(c.room, 'closing-discussion');
  for (const m of demo.log.matchAll(urlRe)) assert.ok(m[1].startsWith(demo.http + '/#t='), `${m[1]} is not on ${demo.http}`);

  const res = await demo.api('GET', '/api/rooms/closing-discussion');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.id, 'closing-discussion');
  assert.match(res.json.title, /counter-terrorism/i, 'the title of the 2020 Virtual Counter-Terrorism Week closing discussion');
  for (const item of res.json.agenda) assert.ok(item.id && item.title, JSON.stringify(item));
  // the seed meeting (contract 9.1): three 30-minute questions and the
  // reserved conclusions, in a two-hour slot from the next full half hour,
  // New York time, not yet open
  assert.deepEqual(res.json.agenda.map((i) => [i.id, i.planned_s, !!i.reserved]),
    [['q1', 1800, false], ['q2', 1800, false], ['q3', 1800, false], ['usg', 900, true]]);
  assert.equal(res.json.agenda[3].title, 'Conclusions of the Under-Secretary-General');
  assert.equal(res.json.status, 'scheduled');
  const sc = res.json.schedule;
  assert.equal(sc.time_zone, 'America/New_York');
  assert.equal(sc.starts_at % (30 * 60 * 1000), 0);
  assert.ok(sc.starts_at > Date.now() - 5000 && sc.starts_at <= Date.now() + 30 * 60 * 1000, JSON.stringify(sc));
  assert.equal(sc.ends_at - sc.starts_at, 2 * 3600 * 1000);
  // the invites carry regions
  assert.ok(roles.some((c) => c.region === 'African States'), JSON.stringify(roles));
  assert.ok(roles.some((c) => c.region === 'Western European and other States'), JSON.stringify(roles));

  // Each invite works.
  for (const tk of tokens.slice(0, 3)) {
    const cl = new Client(demo.ws);
    await cl.opened;
    cl.send({ type: 'join', token: tk });
    const welcome = await cl.next((m) => m.type === 'welcome' || m.type === 'error');
    assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
    assert.equal(welcome.room.id, 'closing-discussion');
    assert.equal(welcome.you.role, decodeToken(tk).role);
    cl.close();
  }
});

test('--demo on an existing data dir keeps the room as it was', async (t) => {
  const first = await startServer({ args: ['--demo'] });
  await waitLog(first, /(\/#t=[\s\S]*){3}/, 5000);
  const { c } = await enter(first, 'closing-discussion', 'delegate', 'demo-d1');
  const { reply } = await act(c, { type: 'request_floor' });
  assert.equal(reply.type, 'ack');
  const snap1 = (await first.api('GET', '/api/rooms/closing-discussion')).json;
  const exit = await first.stop();
  assert.equal(exit.code, 0);
  const second = await startServer({ dir: first.dir, secret: first.secret, adminKey: first.adminKey, args: ['--demo'] });
  t.after(() => stopChecked(second));
  await waitLog(second, /(\/#t=[\s\S]*){3}/, 5000);
  const snap2 = (await second.api('GET', '/api/rooms/closing-discussion')).json;
  assert.deepEqual(snap2.queue, snap1.queue);
  assert.deepEqual(snap2.agenda, snap1.agenda);
  const list = (await second.api('GET', '/api/rooms')).json;
  assert.equal(list.filter((r) => r.id === 'closing-discussion').length, 1);
});

test('--demo without an admin key prints a generated one that works', async (t) => {
  const demo = await startServer({ args: ['--demo'], adminKeyFile: false });
  t.after(() => stopChecked(demo));
  await waitLog(demo, /(\/#t=[\s\S]*){3}/, 5000);
  const jwts = new Set([...demo.log.matchAll(/#t=([A-Za-z0-9_.-]+)/g)].map((m) => m[1]));
  const words = [...new Set(demo.log.match(/[A-Za-z0-9_+\/=-]{16,}/g) || [])]
    .filter((w) => ![...jwts].some((j) => j.includes(w)));
  let ok = false;
  for (const w of words) {
    const res = await api(demo.http, w, 'GET', '/api/rooms');
    if (res.status === 200) { ok = true; break; }
  }
  assert.ok(ok, `no printed word works as the admin key:\n${demo.log}`);
});

test('--node-id names the node in the logs', async (t) => {
  const s = await startServer({ args: ['--node-id', 'test-node-7f3a'] });
  t.after(() => stopChecked(s));
  const room = await newRoom(s);
  const { c } = await enter(s, room.id, 'delegate', 'nid-d1');
  c.close();
  assert.match(s.log, /test-node-7f3a/);
});

test('without an admin key the admin API is disabled (404)', async (t) => {
  const s = await startServer({ adminKeyFile: false });
  t.after(() => stopChecked(s));
  for (const [method, p] of [['GET', '/api/rooms'], ['POST', '/api/rooms'], ['GET', '/api/rooms/x']]) {
    const res = await s.api(method, p, method === 'POST' ? { id: 'x', title: 'X' } : undefined);
    assert.equal(res.status, 404, `${method} ${p}: ${res.status}`);
  }
});

test('ROSTRUM_SECRET and ROSTRUM_ADMIN_KEY are read from the environment', async (t) => {
  const secret = 'env-secret-0123456789abcdef0123456789';
  const adminKey = 'env-admin-key-0123456789';
  const s = await startServer({ secretFile: false, adminKeyFile: false, secret, adminKey,
    env: { ROSTRUM_SECRET: secret, ROSTRUM_ADMIN_KEY: adminKey } });
  t.after(() => stopChecked(s));
  const room = await newRoom(s);
  const { w } = await enter(s, room.id, 'delegate', 'env-d1');
  assert.equal(w.you.sub, 'env-d1');
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
