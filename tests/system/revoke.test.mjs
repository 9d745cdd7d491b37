// Token revocation (contract section 11): POST /api/rooms/{id}/revocations
// {"jti","until"?} refuses that token from then on (unauthorized, close 4401)
// and closes its open connections with 4401, across restarts; GET lists the
// revocations in force; the CLI's `rostrum token revoke`. On the wire the
// revocation is a sequenced event `token_revoked` whose data is empty: the
// jti never reaches the room's clients (docs/protocol.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import {
  root, startServer, stopChecked, newRoom, enter, join, claims, act, decodeToken,
} from '../lib/harness.mjs';

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');
const servers = [];
after(async () => { for (const s of servers) { try { await s.stop('SIGKILL'); } catch { /* gone */ } } });

function runCli(args) {
  return new Promise((resolve) => {
    execFile(cli, args, { timeout: 20000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

async function mint(s, room, sub, role = 'delegate', extra = {}) {
  const r = await s.api('POST', `/api/rooms/${room}/tokens`, { sub, name: `Name ${sub}`, role, ...extra });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function joinWith(s, token) {
  const { client, welcome } = await join(s, token);
  return { c: client, w: welcome };
}

test('a revoked token: its connections closed with 4401, refused at join; the others stay; the jti never on the wire', async () => {
  const s = await startServer();
  servers.push(s);
  const { id: room } = await newRoom(s);
  const watcher = await enter(s, room, 'observer', 'obs');
  const deltaWatcher = await enter(s, room, 'observer', 'obs-d', {}, { deltas: true });
  const chair = await enter(s, room, 'moderator', 'chair');
  const t1 = await mint(s, room, 'd1', 'delegate', { ttl_s: 7200 });
  const t2 = await mint(s, room, 'd1'); // the same person, another invitation
  const a = await joinWith(s, t1.token);
  const b = await joinWith(s, t2.token);
  assert.equal(a.w.type, 'welcome');
  assert.equal(b.w.type, 'welcome');
  const seqBefore = (await act(chair.c, { type: 'announce', text: 'before' })).reply.seq;

  const r = await s.api('POST', `/api/rooms/${room}/revocations`, { jti: t1.jti });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.jti, t1.jti);
  // Default until: the token's own exp, known from the connection.
  assert.equal(r.json.until, decodeToken(t1.token).exp);

  const close = await a.c.waitClose();
  assert.equal(close.code, 4401);
  // The other invitation of the same person stays.
  const { reply } = await act(b.c, { type: 'request_floor' });
  assert.equal(reply.type, 'ack');
  // The revocation is a sequenced event with empty data, right after ours.
  const ev = await watcher.c.waitFor((m) => m.type === 'event' && m.name === 'token_revoked');
  assert.equal(ev.seq, seqBefore + 1);
  assert.deepEqual(ev.data, {});
  assert.equal(ev.actor, 'admin');
  assert.deepEqual(ev.state, {});
  const dev = await deltaWatcher.c.waitFor((m) => m.type === 'event' && m.name === 'token_revoked');
  assert.equal(dev.seq, ev.seq);
  assert.deepEqual(dev.data, {}, 'the delta form too');

  // Refused at join from now on.
  const again = await joinWith(s, t1.token);
  assert.equal(again.w.type, 'error');
  assert.equal(again.w.code, 'unauthorized');
  assert.equal((await again.c.waitClose()).code, 4401);
  // A newcomer's welcome has the event, also without the jti; so has a resume.
  const late = await enter(s, room, 'observer', 'late');
  const inWelcome = late.w.events.find((e) => e.name === 'token_revoked');
  assert.deepEqual(inWelcome.data, {});
  const res = await enter(s, room, 'observer', 'late2', {}, { since: seqBefore, epoch: late.w.epoch });
  assert.equal(res.w.resumed, true);
  assert.deepEqual(res.w.events[0].data, {});
  const resd = await enter(s, room, 'observer', 'late3', {}, { since: seqBefore, epoch: late.w.epoch, deltas: true });
  assert.deepEqual(resd.w.events[0].data, {});
  for (const c of [watcher.c, deltaWatcher.c, chair.c, b.c, late.c, res.c, resd.c]) {
    assert.ok(!JSON.stringify(c.log).includes(t1.jti), 'the jti reached a client');
  }

  // GET lists it; the admin's record keeps it.
  const list = await s.api('GET', `/api/rooms/${room}/revocations`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json, [{ jti: t1.jti, until: r.json.until }]);
  const record = await s.api('GET', `/api/rooms/${room}/transcript`);
  assert.ok(record.text.includes(t1.jti), 'the record (admin only) says which token');
  await stopChecked(s);
});

test('until: given, or 30 days when no node knows the token; bad bodies 400; unknown room 404; admin only', async () => {
  const s = await startServer();
  servers.push(s);
  const { id: room } = await newRoom(s);
  const now = Math.floor(Date.now() / 1000);
  let r = await s.api('POST', `/api/rooms/${room}/revocations`, { jti: 'never-seen' });
  assert.equal(r.status, 201);
  assert.ok(Math.abs(r.json.until - (now + 30 * 86400)) < 5, JSON.stringify(r.json));
  r = await s.api('POST', `/api/rooms/${room}/revocations`, { jti: 'given', until: now + 600 });
  assert.equal(r.json.until, now + 600);
  // Revoking again sets the new until.
  r = await s.api('POST', `/api/rooms/${room}/revocations`, { jti: 'given', until: now + 900 });
  assert.equal(r.status, 201);
  const list = (await s.api('GET', `/api/rooms/${room}/revocations`)).json;
  assert.deepEqual(list.map((e) => e.jti), ['never-seen', 'given']);
  assert.equal(list[1].until, now + 900);
  for (const body of [{}, { jti: '' }, { jti: 'a b' }, { jti: 'x', until: now - 10 }, { jti: 'x', until: 'soon' }, { jti: 'x', token: 'y' }]) {
    const bad = await s.api('POST', `/api/rooms/${room}/revocations`, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
  }
  assert.equal((await s.api('POST', '/api/rooms/no-such-room/revocations', { jti: 'x' })).status, 404);
  assert.equal((await s.api('GET', '/api/rooms/no-such-room/revocations')).status, 404);
  assert.equal((await s.api('DELETE', `/api/rooms/${room}/revocations`)).status, 405);
  const anon = await fetch(`${s.http}/api/rooms/${room}/revocations`);
  assert.equal(anon.status, 401);
  // A token minted offline with that jti is refused too.
  const off = await joinWith(s, s.token(claims(room, 'delegate', 'd9', { jti: 'never-seen' })));
  assert.equal((await off.c.waitClose()).code, 4401);
  await stopChecked(s);
});

test('across a restart: the revocation is kept (journal or Redis)', async () => {
  const s1 = await startServer();
  servers.push(s1);
  const { id: room } = await newRoom(s1);
  const t = await mint(s1, room, 'd1');
  assert.equal((await s1.api('POST', `/api/rooms/${room}/revocations`, { jti: t.jti })).status, 201);
  await stopChecked(s1);
  const s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey });
  servers.push(s2);
  const j = await joinWith(s2, t.token);
  assert.equal(j.w.code, 'unauthorized');
  assert.equal((await j.c.waitClose()).code, 4401);
  const list = await s2.api('GET', `/api/rooms/${room}/revocations`);
  assert.deepEqual(list.json.map((e) => e.jti), [t.jti]);
  // Another token of the room still joins.
  const ok = await enter(s2, room, 'delegate', 'd2');
  assert.equal(ok.w.type, 'welcome');
  await stopChecked(s2);
});

test('rostrum token revoke and revocations', async () => {
  const s = await startServer();
  servers.push(s);
  const { id: room } = await newRoom(s);
  const t = await mint(s, room, 'd1');
  const a = await joinWith(s, t.token);
  assert.equal(a.w.type, 'welcome');
  const adminFile = path.join(s.dir, 'admin-key');
  // A watcher whose own invitation is revoked sees the line, then is closed.
  const wt = await mint(s, room, 'press', 'observer');
  const watch = spawn(cli, ['watch', `${s.http}/#t=${wt.token}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let wout = '';
  let werr = '';
  watch.stdout.on('data', (d) => { wout += d; });
  watch.stderr.on('data', (d) => { werr += d; });
  const wexit = new Promise((resolve) => watch.on('exit', (code) => resolve(code)));
  const t0 = Date.now();
  while (!/^joined /m.test(wout)) {
    if (Date.now() - t0 > 10000) throw new Error(`watch did not join: ${wout} ${werr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const until = Math.floor(Date.now() / 1000) + 3600;
  const r = await runCli(['token', 'revoke', '--api', s.http, '--admin-key-file', adminFile, '--room', room, '--jti', t.jti, '--until', String(until)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^revoked ${t.jti} until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`));
  assert.equal((await a.c.waitClose()).code, 4401);
  assert.equal((await runCli(['token', 'revoke', '--api', s.http, '--admin-key-file', adminFile, '--room', room, '--jti', wt.jti])).code, 0);
  assert.equal(await wexit, 1, werr);
  assert.match(wout, /^#1 \d\d:\d\d:\d\d a token of this room was revoked$/m);
  assert.match(werr, /4401/);
  assert.ok(!wout.includes(t.jti) && !wout.includes(wt.jti));
  const l = await runCli(['token', 'revocations', '--api', s.http, '--admin-key-file', adminFile, '--room', room]);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout.split('\n')[0], `${t.jti} ${new Date(until * 1000).toISOString().replace(/\.000Z$/, 'Z')}`);
  assert.match(l.stdout.split('\n')[1], new RegExp(`^${wt.jti} \\d{4}-`));
  const bad = await runCli(['token', 'revoke', '--api', s.http, '--admin-key-file', adminFile, '--room', room, '--jti', 'a b']);
  assert.equal(bad.code, 2);
  // An offline token with --jti carries it.
  const off = await runCli(['token', '--secret-file', path.join(s.dir, 'secret'), '--room', room, '--sub', 'x', '--name', 'X', '--role', 'delegate', '--jti', 'off-1']);
  assert.equal(off.code, 0, off.stderr);
  assert.equal(decodeToken(off.stdout.trim()).jti, 'off-1');
  await stopChecked(s);
});

// Commands a connection sent before its token's revocation was applied wait
// in the room's queue; those decided after it are refused (unauthorized),
// never committed after the token_revoked event. The delegate keeps a
// stream of says going (within its rate limit) while the admin revokes.
test('commands queued by a revoked token are not committed after its revocation', async () => {
  const s = await startServer({ args: ['--command-rate', '100000', '--command-burst', '100000'] });
  servers.push(s);
  const { id: room } = await newRoom(s, { settings: { chat: 'open' } });
  const watcher = await enter(s, room, 'observer', 'obs-q');
  const t = await mint(s, room, 'dq', 'delegate');
  const d = await joinWith(s, t.token);
  const replies = [];
  let n = 0;
  const pump = setInterval(() => {
    for (let i = 0; i < 5; i++) d.c.send({ type: 'say', id: `q${++n}`, text: `line ${n}` });
  }, 2);
  await new Promise((r) => setTimeout(r, 150));
  const r = await s.api('POST', `/api/rooms/${room}/revocations`, { jti: t.jti });
  clearInterval(pump);
  assert.equal(r.status, 201, r.text);
  const close = await d.c.waitClose();
  assert.equal(close.code, 4401);
  const rev = await watcher.c.waitFor((m) => m.type === 'event' && m.name === 'token_revoked');
  // Everything the server committed is seen by the watcher: wait for the
  // room to be quiet, then look at the order.
  const seqNow = (await s.api('GET', `/api/rooms/${room}`)).json.seq;
  await watcher.c.waitFor((m) => m.type === 'event' && m.seq === seqNow);
  const after = watcher.c.log.filter((m) => m.type === 'event' && m.seq > rev.seq &&
    m.name === 'message' && m.data.from.sub === 'dq');
  assert.deepEqual(after.map((m) => m.seq), [], 'messages of the revoked token after token_revoked');
  for (const m of d.c.log) {
    if (m.type === 'error') replies.push(m.code);
  }
  for (const code of replies) assert.ok(['unauthorized'].includes(code), `refused with ${code}`);
  const said = watcher.c.log.filter((m) => m.type === 'event' && m.name === 'message').length;
  assert.ok(said > 0, 'some lines were committed before the revocation');
});
