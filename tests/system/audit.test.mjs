// --audit-log (contract section 11): one JSON line per admin API call and
// per moderator command, written before the answer; reopened on SIGHUP (log
// rotation); never a token, secret, key or statement text.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopChecked, enter, act, newRoom, api } from '../lib/harness.mjs';

const servers = [];
after(async () => { for (const s of servers) { try { await s.stop('SIGKILL'); } catch { /* gone */ } } });

const lines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('admin calls and moderator commands, each line before the answer; no token, key, secret or text', async () => {
  const dir = fs.mkdtempSync('/tmp/rostrum-audit-');
  const file = path.join(dir, 'audit.log');
  const s = await startServer({ args: ['--audit-log', file, '--node-id', 'audit-node'] });
  servers.push(s);
  assert.equal((fs.statSync(file).mode & 0o777), 0o600, 'the audit log is private');

  const { id: room } = await newRoom(s);
  // Read right after each answer: the line is already there.
  let l = lines(file);
  assert.equal(l.length, 1);
  assert.deepEqual({ ...l[0], time: undefined, remote: undefined },
    { time: undefined, remote: undefined, node: 'audit-node', who: 'admin', method: 'POST', path: '/api/rooms', room: null, outcome: 'ok', status: 201 });
  assert.match(l[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(l[0].remote, '127.0.0.1');

  const tok = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'chair', name: 'Chair', role: 'moderator' });
  l = lines(file);
  assert.deepEqual([l[1].path, l[1].room, l[1].status], [`/api/rooms/${room}/tokens`, room, 201]);
  const bad = await api(s.http, 'wrong-key-0123456789', 'GET', `/api/rooms/${room}`);
  assert.equal(bad.status, 401);
  l = lines(file);
  assert.deepEqual([l[2].who, l[2].outcome, l[2].status, l[2].method], ['anonymous', 'unauthorized', 401, 'GET']);
  await s.api('GET', `/api/rooms/${room}/transcript?format=md`);
  assert.equal(lines(file)[3].path, `/api/rooms/${room}/transcript`, 'the path without the query');

  const TEXT = 'Confidential announcement 4f9a';
  const SAY = 'The chair says 77c1';
  const { c: chair } = await enter(s, room, 'moderator', 'chair');
  const { c: del } = await enter(s, room, 'delegate', 'd1');
  const base = lines(file).length;
  let r = await act(chair, { type: 'announce', text: TEXT });
  assert.equal(r.reply.type, 'ack');
  assert.equal(lines(file).length, base + 1);
  r = await act(chair, { type: 'say', text: SAY });
  r = await act(chair, { type: 'grant' }); // empty queue: not_found
  assert.equal(r.reply.code, 'not_found');
  r = await act(chair, { type: 'mute', sub: 'd1' });
  r = await act(del, { type: 'say', text: 'a delegate is not audited' });
  assert.equal(r.reply.code, 'muted');
  // Refused by the session itself (malformed): audited too; a ping is not.
  r = await act(chair, { type: 'extend', seconds: 'ten' });
  assert.equal(r.reply.code, 'bad_request');
  const at = chair.mark();
  chair.send({ type: 'ping' });
  await chair.waitFor((m) => m.type === 'pong', 5000, at);
  l = lines(file).slice(base);
  assert.deepEqual(l.map((e) => [e.who, e.command, e.room, e.outcome]), [
    ['chair', 'announce', room, 'ok'],
    ['chair', 'say', room, 'ok'],
    ['chair', 'grant', room, 'not_found'],
    ['chair', 'mute', room, 'ok'],
    ['chair', 'extend', room, 'bad_request'],
  ]);
  assert.ok(l.every((e) => e.node === 'audit-node' && e.remote === '127.0.0.1' && !('method' in e)));

  // The record fetched with the chair's room token: audited as the chair.
  const chairTok = s.token({ sub: 'chair', name: 'Chair', room, role: 'moderator' });
  const rec = await fetch(`${s.http}/api/rooms/${room}/transcript`, { headers: { authorization: `Bearer ${chairTok}` } });
  assert.equal(rec.status, 200);
  const last = lines(file).at(-1);
  assert.deepEqual([last.who, last.method, last.path, last.outcome], ['chair', 'GET', `/api/rooms/${room}/transcript`, 'ok']);
  // A moderator made delegate by another: 403, audited as forbidden.
  const { c: chair2 } = await enter(s, room, 'moderator', 'chair2');
  assert.equal((await act(chair2, { type: 'set_role', sub: 'chair', role: 'delegate' })).reply.type, 'ack');
  const demoted = await fetch(`${s.http}/api/rooms/${room}/transcript`, { headers: { authorization: `Bearer ${chairTok}` } });
  assert.equal(demoted.status, 403);
  const refused = lines(file).at(-1);
  assert.deepEqual([refused.who, refused.path, refused.outcome, refused.status], ['chair', `/api/rooms/${room}/transcript`, 'forbidden', 403]);

  const text = fs.readFileSync(file, 'utf8');
  for (const secret of [tok.json.token, tok.json.token.split('.')[2], chairTok, chairTok.split('.')[2], s.adminKey, s.secret, TEXT, SAY, 'wrong-key-0123456789']) {
    assert.ok(!text.includes(secret), `the audit log holds ${secret.slice(0, 12)}...`);
  }

  // Log rotation: move the file away, SIGHUP, the next line goes to a new file.
  fs.renameSync(file, `${file}.1`);
  s.proc.kill('SIGHUP');
  const deadline = Date.now() + 5000;
  while (!/audit log .* reopened/.test(s.log)) {
    if (Date.now() > deadline) throw new Error(s.log);
    await new Promise((res) => setTimeout(res, 25));
  }
  const before = lines(`${file}.1`).length;
  await s.api('GET', '/api/rooms');
  assert.equal(lines(file).length, 1);
  assert.equal(lines(file)[0].path, '/api/rooms');
  assert.equal(lines(`${file}.1`).length, before);
  await stopChecked(s);
});

test('an audit log that cannot be opened refuses to start', async () => {
  const s = await startServer({ args: ['--audit-log', '/nonexistent-dir/audit.log'] }).catch((e) => e);
  assert.ok(s instanceof Error);
  assert.match(s.message, /audit log \/nonexistent-dir\/audit.log: cannot open/);
});

// A moderator's commands still in flight when the connection drops are
// committed all the same: each that took effect has its audit line.
test('commands committed after the connection dropped are audited too', async () => {
  const dir = fs.mkdtempSync('/tmp/rostrum-audit-');
  const file = path.join(dir, 'audit.log');
  const s = await startServer({ args: ['--audit-log', file] });
  servers.push(s);
  const { id: room } = await newRoom(s);
  const { c: chair } = await enter(s, room, 'moderator', 'chair');
  const N = 20;
  for (let i = 0; i < N; i++) chair.send({ type: 'announce', text: `announcement ${i}` });
  chair.ws.terminate();
  // Wait until the room has settled: the record no longer grows.
  let committed = -1;
  for (let last = -2, deadline = Date.now() + 10000; committed !== last && Date.now() < deadline;) {
    await new Promise((res) => setTimeout(res, 300));
    last = committed;
    let rec;
    try { rec = await s.api('GET', `/api/rooms/${room}/transcript?format=json`); } catch (e) { throw new Error(`${e.message}\n${s.log}`); }
    committed = rec.json.events.filter((e) => e.name === 'message').length;
  }
  const audited = lines(file).filter((e) => e.command === 'announce' && e.outcome === 'ok').length;
  assert.equal(audited, committed, `${committed} announcements committed, ${audited} audited`);
  await stopChecked(s);
});
