// Contract section 9.6: a record anyone can verify. The chain hash of every
// event (recomputed here with an independent implementation of the
// canonical JSON), its survival across a restart, --record-key-file and
// GET /api/record-key, the signature, `rostrum record verify` against
// tampered records, the transcript with a moderator's room token, and the
// time to export a record of 100,000 events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify as edVerify, sign as edSignRaw, createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  root, startServer, runServer, enter, act, stopChecked, redisMode, mintToken, startRedis,
} from '../lib/harness.mjs';
import { meeting } from '../lib/meeting.mjs';

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');

// ---- an independent canonical JSON (contract 9.6), not jansson ----
function canonString(s) {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp > 0x7f) {
      const units = cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp];
      for (const u of units) out += `\\u${u.toString(16).toUpperCase().padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}
function canon(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') { assert.ok(Number.isInteger(v), `not an integer: ${v}`); return String(v); }
  if (typeof v === 'string') return canonString(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  // keys by code point (not UTF-16 unit order)
  const keys = Object.keys(v).sort((a, b) => {
    const x = [...a].map((c) => c.codePointAt(0)); const y = [...b].map((c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
  return `{${keys.map((k) => `${canonString(k)}:${canon(v[k])}`).join(',')}}`;
}
const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
export function chainOf(roomId, epoch, events) {
  let h = sha(`rostrum record ${roomId} ${epoch}`);
  const hashes = [];
  for (const e of events) {
    h = sha(h + canon({ seq: e.seq, ts: e.ts, name: e.name, actor: e.actor, data: e.data }));
    hashes.push(h);
  }
  return { h0: sha(`rostrum record ${roomId} ${epoch}`), hashes, head: h };
}

function verifyCli(file, key) {
  const args = ['record', 'verify', file];
  if (key) args.push('--public-key', key);
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

let server;
let keyFile;
let pubPem;
before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-chain-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  keyFile = path.join(dir, 'record-key.pem');
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  pubPem = publicKey.export({ type: 'spki', format: 'pem' });
  server = await startServer({ dir, args: ['--record-key-file', keyFile] });
});
after(async () => { await server?.stop(); });

// A meeting whose texts exercise every escaping rule.
async function texts(s) {
  const mt = await meeting(s, { pause_on_disconnect: false }, [['fr', { delegation: 'Côte d’Ivoire', name: 'Mme N’Guessan' }], ['de', { delegation: 'Deutschland' }]]);
  await mt.ok(mt.d.fr, { type: 'say', text: 'quote " backslash \\ slash / tab\tnewline\nbell\u0007 del\u007f é ü 中文 😀 \u2028' });
  await mt.ok(mt.d.fr, { type: 'request_floor', lang: 'fr' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.m, { type: 'announce', text: 'مرحبا بالجميع' });
  await mt.ok(mt.m, { type: 'end_floor' });
  await mt.m.sync();
  return mt;
}

const record = async (s, id, format = 'json', headers) => s.api('GET', `/api/rooms/${id}/transcript?format=${format}`, undefined, headers);

test('every event has the chain hash of 9.6, recomputed independently; the wire carries none', async () => {
  const mt = await texts(server);
  const wire = mt.m.log.filter((m) => m.type === 'event');
  for (const e of wire) assert.equal(e.hash, undefined, `event ${e.seq} carries a hash on the wire`);
  const res = await record(server, mt.room.id);
  assert.equal(res.status, 200, res.text);
  const j = res.json;
  const { hashes, head } = chainOf(mt.room.id, j.chain.epoch, j.events);
  assert.deepEqual(j.events.map((e) => e.hash), hashes);
  assert.equal(j.chain.algorithm, 'sha256');
  assert.equal(j.chain.first_seq, 1);
  assert.equal(j.chain.last_seq, j.events.length);
  assert.equal(j.chain.head, head);
  assert.equal(j.chain.restarted_after, null);
  // the epoch is the room's (the welcome says it)
  const w = await enter(server, mt.room.id, 'observer', 'obs-chain');
  assert.equal(j.chain.epoch, w.w.epoch);
  w.c.close();
  // the signature: Ed25519 over "rostrum record ROOM EPOCH LAST HEAD"
  const msg = `rostrum record ${mt.room.id} ${j.chain.epoch} ${j.chain.last_seq} ${j.chain.head}`;
  assert.ok(edVerify(null, Buffer.from(msg), createPublicKey(pubPem), Buffer.from(j.signature, 'base64')), 'the signature does not verify');
  assert.equal(j.public_key.trim(), pubPem.trim());
  mt.close();
});

test('Redis keeps each event\'s chain hash in its stream entry (field h)', { skip: redisMode ? false : 'Redis backend only' }, async () => {
  const mt = await texts(server);
  const j = (await record(server, mt.room.id)).json;
  const r = await startRedis(server.dir);
  const out = spawnSync('redis-cli', ['-p', String(r.port), '--no-raw', 'XRANGE', `rostrum:{${mt.room.id}}:log`, '-', '+'], { encoding: 'utf8' }).stdout;
  const hs = [...out.matchAll(/"h"\n\s*\d+\) "([0-9a-f]{64})"/g)].map((m) => m[1]);
  assert.deepEqual(hs, j.events.map((e) => e.hash), out.slice(0, 2000));
  mt.close();
});

test('GET /api/record-key: the PEM public key, no authentication', async () => {
  const res = await fetch(`${server.http}/api/record-key`);
  assert.equal(res.status, 200);
  assert.equal((await res.text()).trim(), pubPem.trim());
  const post = await fetch(`${server.http}/api/record-key`, { method: 'POST' });
  assert.equal(post.status, 405);
});

test('without --record-key-file: no signature, /api/record-key 404, the chain all the same', async (t) => {
  const s = await startServer();
  t.after(() => stopChecked(s));
  const mt = await meeting(s);
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  assert.equal((await fetch(`${s.http}/api/record-key`)).status, 404);
  const j = (await record(s, mt.room.id)).json;
  assert.equal(j.signature, undefined);
  assert.equal(j.public_key, undefined);
  assert.equal(j.chain.head, chainOf(mt.room.id, j.chain.epoch, j.events).head);
  mt.close();
});

test('a bad record key file refuses to start, naming the file and why', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-rk-'));
  const missing = path.join(dir, 'nope.pem');
  let r = await runServer(['--listen', '127.0.0.1:0', '--record-key-file', missing]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /record key file .*nope\.pem/);
  const open = path.join(dir, 'open.pem');
  fs.copyFileSync(keyFile, open);
  fs.chmodSync(open, 0o644);
  r = await runServer(['--listen', '127.0.0.1:0', '--record-key-file', open]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /accessible by other users.*chmod 600/);
  const rsa = path.join(dir, 'rsa.pem');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  fs.writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  r = await runServer(['--listen', '127.0.0.1:0', '--record-key-file', rsa]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Ed25519 private key/);
  // A passphrase-protected key: no prompt (a server has nobody to type
  // it), a refusal that says what to do.
  const enc = path.join(dir, 'enc.pem');
  const ed = generateKeyPairSync('ed25519').privateKey;
  fs.writeFileSync(enc, ed.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }), { mode: 0o600 });
  r = await runServer(['--listen', '127.0.0.1:0', '--record-key-file', enc]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /record key file .*enc\.pem is encrypted with a passphrase.*openssl pkey/);
});

test('the chain survives a restart and goes on from its head', async (t) => {
  const s1 = await startServer({ args: ['--record-key-file', keyFile] });
  let s2;
  t.after(async () => { await stopChecked(s1); if (s2) await stopChecked(s2); });
  const mt = await texts(s1);
  const before1 = (await record(s1, mt.room.id)).json;
  mt.close();
  await stopChecked(s1);
  s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey, args: ['--record-key-file', keyFile] });
  const again = (await record(s2, mt.room.id)).json;
  assert.deepEqual(again.events.map((e) => e.hash), before1.events.map((e) => e.hash));
  assert.equal(again.chain.head, before1.chain.head);
  const m = (await enter(s2, mt.room.id, 'moderator', 'chair', { name: 'The Chair' })).c;
  assert.equal((await act(m, { type: 'announce', text: 'after the restart' })).reply.type, 'ack');
  const after2 = (await record(s2, mt.room.id)).json;
  assert.equal(after2.events.length, before1.events.length + 1);
  assert.equal(after2.chain.head, chainOf(mt.room.id, after2.chain.epoch, after2.events).head);
  m.close();
});

test('rostrum record verify: 0 when whole; 1 naming the event for a changed character, a dropped event, two swapped, a bad signature', async () => {
  const mt = await texts(server);
  const res = await record(server, mt.room.id);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-verify-'));
  const pub = path.join(dir, 'pub.pem');
  fs.writeFileSync(pub, await (await fetch(`${server.http}/api/record-key`)).text());
  const good = path.join(dir, 'good.json');
  fs.writeFileSync(good, res.text);
  let r = verifyCli(good, pub);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /signature hold/);
  r = verifyCli(good);
  assert.equal(r.code, 0, r.out);

  const write = (name, j) => { const f = path.join(dir, name); fs.writeFileSync(f, typeof j === 'string' ? j : JSON.stringify(j, null, 2)); return f; };
  // one character of one event's data
  const j1 = JSON.parse(res.text);
  const msgIdx = j1.events.findIndex((e) => e.name === 'message');
  j1.events[msgIdx].data.text = j1.events[msgIdx].data.text.replace('quote', 'quotE');
  r = verifyCli(write('char.json', j1), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`event seq ${j1.events[msgIdx].seq}\\b`));
  // the same in the raw text, one character of a ts
  const raw = res.text.replace(/"ts":(\d+)/, (m0, d) => `"ts":${d.slice(0, -1)}${(Number(d.slice(-1)) + 1) % 10}`);
  assert.notEqual(raw, res.text);
  r = verifyCli(write('ts.json', raw), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /event seq 1\b/);
  // an event dropped
  const j2 = JSON.parse(res.text);
  j2.events.splice(2, 1);
  r = verifyCli(write('drop.json', j2), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /event seq 4\b.*missing or out of order/);
  // the last event dropped (and last_seq left as it was)
  const j2b = JSON.parse(res.text);
  j2b.events.pop();
  r = verifyCli(write('droplast.json', j2b), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /missing at the end/);
  // two swapped
  const j3 = JSON.parse(res.text);
  [j3.events[1], j3.events[2]] = [j3.events[2], j3.events[1]];
  r = verifyCli(write('swap.json', j3), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /event seq 3\b/);
  // every hash recomputed after a change: the head then differs from the signed one
  const j4 = JSON.parse(res.text);
  j4.events[0].ts += 1;
  const c4 = chainOf(mt.room.id, j4.chain.epoch, j4.events);
  j4.events.forEach((e, i) => { e.hash = c4.hashes[i]; });
  j4.chain.head = c4.head;
  r = verifyCli(write('rehash.json', j4), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /signature does not match/);
  // the signature altered
  const j5 = JSON.parse(res.text);
  const sig = Buffer.from(j5.signature, 'base64');
  sig[10] ^= 1;
  j5.signature = sig.toString('base64');
  r = verifyCli(write('sig.json', j5), pub);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /signature/);
  // another key: a record re-signed by someone else fails against the server's key
  const other = generateKeyPairSync('ed25519');
  const j6 = JSON.parse(res.text);
  j6.signature = edSign(other.privateKey, `rostrum record ${mt.room.id} ${j6.chain.epoch} ${j6.chain.last_seq} ${j6.chain.head}`);
  j6.public_key = other.publicKey.export({ type: 'spki', format: 'pem' });
  const f6 = write('resigned.json', j6);
  assert.equal(verifyCli(f6).code, 0, 'the embedded key checks its own signature');
  r = verifyCli(f6, pub);
  assert.equal(r.code, 1, r.out);
  // not a record at all
  assert.equal(verifyCli(write('junk.json', '{"hello":1}')).code, 2);
  assert.equal(verifyCli(write('notjson.json', 'nope')).code, 2);
  assert.equal(verifyCli(path.join(dir, 'absent.json')).code, 2);
  mt.close();
});

function edSign(key, msg) {
  return edSignRaw(null, Buffer.from(msg), key).toString('base64');
}

test('the record in Markdown and CSV carries the fingerprint and the hashes', async () => {
  const mt = await texts(server);
  const j = (await record(server, mt.room.id)).json;
  const md = (await record(server, mt.room.id, 'md')).text;
  assert.match(md, /## Record integrity/);
  assert.ok(md.includes(`**${j.chain.head.slice(0, 16)}** at seq ${j.chain.last_seq}`), md.slice(-800));
  assert.match(md, /rostrum record verify/);
  const csv = (await record(server, mt.room.id, 'csv')).text.trim().split('\r\n');
  assert.match(csv[0], /,hash$/);
  for (let i = 0; i < j.events.length; i++) assert.ok(csv[i + 1].endsWith(`,${j.events[i].hash}`), csv[i + 1]);
  assert.ok(csv.at(-1).startsWith(',,chain,'), csv.at(-1));
  assert.ok(csv.at(-1).endsWith(j.chain.head));
  mt.close();
});

test('the transcript accepts a moderator room token as Bearer, for that room only', async () => {
  const mt = await meeting(server);
  const other = await meeting(server);
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const tok = (claims) => `Bearer ${server.token(claims)}`;
  const chair = { sub: 'chair', name: 'The Chair', room: mt.room.id, role: 'moderator' };
  let res = await record(server, mt.room.id, 'json', { authorization: tok(chair) });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.json.events.length > 0);
  res = await record(server, mt.room.id, 'md', { authorization: tok(chair) });
  assert.equal(res.status, 200);
  // another room, another endpoint, a delegate, an expired or forged token
  assert.equal((await record(server, other.room.id, 'json', { authorization: tok(chair) })).status, 401);
  assert.equal((await server.api('GET', `/api/rooms/${mt.room.id}`, undefined, { authorization: tok(chair) })).status, 401);
  assert.equal((await record(server, mt.room.id, 'json', { authorization: tok({ ...chair, role: 'delegate', sub: 'fr' }) })).status, 401);
  assert.equal((await record(server, mt.room.id, 'json', { authorization: `Bearer ${mintToken(server.secret, chair, { ttl: -120 })}` })).status, 401);
  assert.equal((await record(server, mt.room.id, 'json', { authorization: `Bearer ${mintToken('not-the-secret', chair)}` })).status, 401);
  // a moderator made a delegate by set_role, or removed, no longer may
  const m2 = (await enter(server, mt.room.id, 'moderator', 'chair2', { name: 'Vice-Chair' })).c;
  await mt.ok(mt.m, { type: 'set_role', sub: 'chair2', role: 'delegate' });
  const vice = { ...chair, sub: 'chair2', name: 'Vice-Chair' };
  res = await record(server, mt.room.id, 'json', { authorization: tok(vice) });
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json.error, 'forbidden');
  // a revoked moderator token (contract 11: refused as unauthorized) no
  // longer opens it, and is answered like any invalid credential: 401,
  // not the 403 of a valid token whose holder is no longer a moderator
  const chair3 = { ...chair, sub: 'chair3', name: 'Third', jti: 'rec-revoke-1' };
  assert.equal((await record(server, mt.room.id, 'json', { authorization: tok(chair3) })).status, 200);
  const rv = await server.api('POST', `/api/rooms/${mt.room.id}/revocations`, { jti: 'rec-revoke-1' });
  assert.equal(rv.status, 201, rv.text);
  res = await record(server, mt.room.id, 'json', { authorization: tok(chair3) });
  assert.equal(res.status, 401, res.text);
  assert.equal(res.json.error, 'unauthorized');
  // revoked and no longer a moderator: the credential is refused first
  const vice2 = { ...vice, jti: 'rec-revoke-2' };
  assert.equal((await record(server, mt.room.id, 'json', { authorization: tok(vice2) })).status, 403);
  await server.api('POST', `/api/rooms/${mt.room.id}/revocations`, { jti: 'rec-revoke-2' });
  assert.equal((await record(server, mt.room.id, 'json', { authorization: tok(vice2) })).status, 401);
  m2.close();
  mt.close();
  other.close();
});

// 100,000 events: a journal written here (CRC32HEX JSON per line), replayed
// by the server, then exported. The chain hash is kept with each event, so
// the export does not recompute it.
// Not timed: a time budget fails on a loaded machine whatever the server
// does; the export time is measured in docs/benchmarks.md (section 10) and
// printed here.
test('a record of 100,000 events (10,000 on the sanitizer build) exports whole in every format, its chain verified', { skip: redisMode ? 'the journal is the embedded backend\'s' : false, timeout: 120000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-big-'));
  const id = 'big-record';
  const epoch = 'bigepoch';
  const t0 = 1783000000000;
  const initial = {
    v: 1, id, title: 'A long meeting', epoch, created_at: t0, status: 'open', agenda: [{ id: 'q1', title: 'Q1' }],
    agenda_item: 'q1',
    settings: { speech_s: 180, reply_s: 60, point_of_order_s: 60, on_time_up: 'notify', chat: 'open', list_open: true, queue_order: 'request', replies_per_item: 2, pause_on_disconnect: true },
    queue: [], floor: null, next_request: 1, seq: 0, members: {},
  };
  const line = (rec) => { const s = JSON.stringify(rec); return `${zlib.crc32(Buffer.from(s)).toString(16).padStart(8, '0')} ${s}\n`; };
  const parts = [line({ r: 'room', state: initial })];
  // The sanitizer build (scripts/test) replays and renders several times
  // slower: it exports a tenth of the events (it would take longer than
  // the harness's start timeout to replay 100,000).
  const san = /build-san/.test(process.env.ROSTRUM_SERVER || '');
  const N = san ? 10000 : 100000;
  // A meeting's mix: in every ten events a request, its floor, seven chat
  // messages and the floor's end (with the queue and floor state parts a
  // real event carries).
  const people = [['fr', 'France'], ['de', 'Germany'], ['eg', 'Egypt'], ['br', 'Brazil']];
  const from = { sub: 'fr', name: 'Delegate fr', delegation: 'France', role: 'delegate' };
  let k = 0;
  for (let seq = 1; seq <= N; seq++) {
    const ts = t0 + seq * 1000;
    const step = (seq - 1) % 10;
    const [sub, delegation] = people[Math.floor((seq - 1) / 10) % people.length];
    let ev;
    if (step === 0) {
      k++;
      const request = { id: `r${k}`, sub, name: `Delegate ${sub}`, delegation, category: 'member_state', kind: 'speech', lang: 'en', at: ts };
      ev = { name: 'floor_requested', actor: sub, data: { request }, state: { queue: [request] } };
    } else if (step === 1) {
      const floor = { sub, name: `Delegate ${sub}`, delegation, kind: 'speech', request_id: `r${k}`, limit_s: 180, started_at: ts, elapsed_ms: 0, paused: false, time_up: false };
      ev = { name: 'floor_granted', actor: 'chair', data: { floor }, state: { floor, queue: [] } };
    } else if (step === 9) {
      ev = { name: 'floor_ended', actor: sub, data: { sub, reason: 'yielded', spoken_ms: 8000 }, state: { floor: null, stats: { [sub]: { turns: k, spoken_ms: 8000 * k } } } };
    } else {
      ev = { name: 'message', actor: 'fr', data: { from, text: `Statement number ${seq}, with some words of a debate in it.`, kind: 'chat' }, state: {} };
    }
    parts.push(line({ r: 'event', event: { type: 'event', seq, ts, name: ev.name, actor: ev.actor, data: ev.data, state: ev.state } }));
  }
  fs.mkdirSync(path.join(dir, 'data', 'rooms'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'rooms', `${id}.journal`), parts.join(''));
  // Replaying 100,000 events takes ~10 s under the sanitizers (0.5 s plain).
  const s = await startServer({ dir, args: ['--record-key-file', keyFile], startTimeoutMs: 90000 });
  t.after(() => stopChecked(s));
  let text = '';
  for (const format of ['json', 'md', 'csv']) {
    // the request until the last byte, printed for information only
    const started = Date.now();
    const res = await fetch(`${s.http}/api/rooms/${id}/transcript?format=${format}`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    const body = await res.text();
    const ms = Date.now() - started;
    assert.equal(res.status, 200, body.slice(0, 300));
    console.log(`# exported ${N} events as ${format} (${(body.length / 1e6).toFixed(1)} MB) in ${ms} ms (load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
    if (format === 'json') text = body;
  }
  const j = JSON.parse(text);
  assert.equal(j.events.length, N);
  assert.equal(j.chain.last_seq, N);
  assert.equal(j.chain.head, chainOf(id, epoch, j.events).head);
});

test('SIGHUP rereads the record key; a file that no longer parses keeps the old key', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-rk-hup-'));
  const file = path.join(dir, 'record-key.pem');
  const a = generateKeyPairSync('ed25519');
  const b = generateKeyPairSync('ed25519');
  fs.writeFileSync(file, a.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const s = await startServer({ args: ['--record-key-file', file] });
  t.after(() => stopChecked(s));
  const key = async () => (await (await fetch(`${s.http}/api/record-key`)).text()).trim();
  assert.equal(await key(), a.publicKey.export({ type: 'spki', format: 'pem' }).trim());
  fs.writeFileSync(file, b.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  s.proc.kill('SIGHUP');
  const bPem = b.publicKey.export({ type: 'spki', format: 'pem' }).trim();
  const end = Date.now() + 5000;
  while ((await key()) !== bPem) { assert.ok(Date.now() < end, 'the new key was never served'); await new Promise((r) => setTimeout(r, 50)); }
  // records are signed with the new key from then on
  const mt = await meeting(s);
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const j = (await record(s, mt.room.id)).json;
  const msg = `rostrum record ${mt.room.id} ${j.chain.epoch} ${j.chain.last_seq} ${j.chain.head}`;
  assert.ok(edVerify(null, Buffer.from(msg), createPublicKey(bPem), Buffer.from(j.signature, 'base64')));
  // a broken file: the old key stays, and the log says why
  fs.writeFileSync(file, 'not a key', { mode: 0o600 });
  s.proc.kill('SIGHUP');
  const end2 = Date.now() + 5000;
  while (!/the old record key stays/.test(s.log)) { assert.ok(Date.now() < end2, s.log.slice(-500)); await new Promise((r) => setTimeout(r, 50)); }
  assert.equal(await key(), bPem);
  mt.close();
});
