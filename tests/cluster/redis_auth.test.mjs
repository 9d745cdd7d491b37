// Redis credentials (contract section 11): AUTH with a password (requirepass)
// and with an ACL user, from the URL or --redis-password-file, on every
// connection and reconnection of both Redis connections; a refused password
// is logged once, /healthz says 503 and commands get `unavailable` while
// clients stay connected; it recovers once Redis accepts again (CONFIG SET
// requirepass, ACL SETUSER) or the node rereads its password file (SIGHUP);
// the password never appears in the log, /metrics or /healthz.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, runServer, sleep } from '../lib/harness.mjs';
import { startRedis, redisPipeline, health, waitHealth } from './lib.mjs';
import { enter, act } from '../lib/harness.mjs';

const PW = `pw-${randomBytes(12).toString('hex')}`;
const PW2 = `pw2-${randomBytes(12).toString('hex')}`;
const nodes = [];
const redises = [];
after(async () => {
  for (const n of nodes) { try { await n.stop('SIGKILL'); } catch { /* gone */ } }
  for (const r of redises) await r.kill();
});

function writeSecret(dir, name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `${text}\n`, { mode: 0o600 });
  fs.chmodSync(p, 0o600);
  return p;
}

async function node(redisUrl, args = [], waitUp = true) {
  const n = await startServer({ dataDir: false, args: ['--redis', redisUrl, ...args] });
  nodes.push(n);
  if (waitUp) await waitHealth(n, 200);
  return n;
}

// Nothing the node printed or serves holds the password.
async function assertNoPassword(n, ...pws) {
  const metrics = await (await fetch(n.http + '/metrics')).text();
  const healthz = await (await fetch(n.http + '/healthz')).text();
  for (const pw of pws) {
    assert.ok(!n.log.includes(pw), `the password is in the log:\n${n.log}`);
    assert.ok(!metrics.includes(pw), 'the password is in /metrics');
    assert.ok(!healthz.includes(pw), 'the password is in /healthz');
  }
}

async function roomWorks(n, id) {
  const r = await n.api('POST', '/api/rooms', { id, title: 'Auth' });
  assert.equal(r.status, 201, r.text);
  const { c } = await enter(n, id, 'delegate', 'd1');
  const { reply: ack } = await act(c, { type: 'say', text: 'hello' });
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  return c;
}

test('requirepass: the password from --redis-password-file or the URL; a wrong one logged once, 503, then recovery', async () => {
  const redis = await startRedis({ persist: false, args: ['--requirepass', PW], auth: [PW] });
  redises.push(redis);
  const dir = fs.mkdtempSync('/tmp/rostrum-auth-');
  const pwFile = writeSecret(dir, 'redis-pw', PW);

  // From the file.
  const a = await node(redis.url, ['--redis-password-file', pwFile]);
  const c = await roomWorks(a, 'auth-file');
  // From the URL (user empty: requirepass); the log shows the URL without it.
  const b = await node(`redis://:${PW}@127.0.0.1:${redis.port}/0`);
  await roomWorks(b, 'auth-url');
  assert.match(b.log, new RegExp(`redis 127\\.0\\.0\\.1:${redis.port} reachable`));
  await assertNoPassword(a, PW);
  await assertNoPassword(b, PW);
  // Nor does the command line other users of the machine see (ps,
  // /proc/PID/cmdline): the node hides the URL's password in its argv.
  const cmdline = fs.readFileSync(`/proc/${b.proc.pid}/cmdline`, 'utf8');
  assert.ok(!cmdline.includes(PW), `the password is in /proc/PID/cmdline: ${cmdline}`);
  assert.ok(cmdline.includes(`redis://:${'*'.repeat(PW.length)}@127.0.0.1:${redis.port}/0`), cmdline);

  // No password at all: told clearly, once.
  const none = await node(redis.url, [], false);
  await sleep(2500);
  assert.equal(await health(none), 503);
  assert.equal((none.log.match(/wants authentication/g) || []).length, 1, none.log);

  // Redis changes its password; the nodes' connections are cut, so they
  // reconnect and are refused: one clear line, /healthz 503, commands get
  // unavailable, and the joined client stays connected.
  const r1 = await redisPipeline(redis.port, [['AUTH', PW], ['CONFIG', 'SET', 'requirepass', PW2], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['CLIENT', 'KILL', 'TYPE', 'pubsub']]);
  assert.deepEqual(r1.slice(0, 2), ['+OK', '+OK']);
  await waitHealth(a, 503);
  await sleep(3000); // several retries (backoff 100 ms, 200 ms, ... )
  assert.equal((a.log.match(/refused the credentials/g) || []).length, 1, a.log);
  const { reply: refused } = await act(c, { type: 'say', text: 'while refused' });
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'unavailable');

  // Node a gets the new password by SIGHUP (file reread); b recovers when
  // Redis is given its old password back.
  writeSecret(dir, 'redis-pw', PW2);
  a.proc.kill('SIGHUP');
  await waitHealth(a, 200, 15000);
  assert.match(a.log, /accepts the credentials again/);
  const { reply: ok } = await act(c, { type: 'say', text: 'after SIGHUP' });
  assert.equal(ok.type, 'ack', JSON.stringify(ok));
  assert.equal(c.closed, null, 'the client stayed connected');
  await waitHealth(b, 503);
  await redisPipeline(redis.port, [['AUTH', PW2], ['CONFIG', 'SET', 'requirepass', PW]]);
  await waitHealth(b, 200, 15000);
  await assertNoPassword(a, PW, PW2);
  await assertNoPassword(b, PW, PW2);
});

test('an ACL user: AUTH user password on both connections; a wrong password refused; recovery when Redis accepts again', async () => {
  const ADMIN = `admin-${randomBytes(12).toString('hex')}`;
  const redis = await startRedis({ persist: false });
  redises.push(redis);
  // Least privilege: the server's keys and channels only, no admin
  // commands; the default user gets a password of its own (the operator's).
  const setUser = ['ACL', 'SETUSER', 'rostrum', 'on', `>${PW}`, 'resetchannels', '&rostrum:*', '~rostrum:*', '+@all', '-@admin', '-@dangerous'];
  const set = await redisPipeline(redis.port, [setUser, ['ACL', 'SETUSER', 'default', 'on', `>${ADMIN}`, 'nopass']]);
  assert.deepEqual(set, ['+OK', '+OK']);
  await redisPipeline(redis.port, [['ACL', 'SETUSER', 'default', 'resetpass', `>${ADMIN}`]]);
  const admin = (cmds) => redisPipeline(redis.port, [['AUTH', 'default', ADMIN], ...cmds]);
  const dir = fs.mkdtempSync('/tmp/rostrum-acl-');
  const pwFile = writeSecret(dir, 'redis-pw', PW);
  const a = await node(`redis://rostrum@127.0.0.1:${redis.port}`, ['--redis-password-file', pwFile]);
  const c = await roomWorks(a, 'acl-room');
  const b = await node(`redis://rostrum:${encodeURIComponent(PW)}@127.0.0.1:${redis.port}/0`);
  await roomWorks(b, 'acl-url');

  // Wrong password for the user: refused, said once, naming the user only.
  const wrong = await node(`redis://rostrum:wrong-${PW}@127.0.0.1:${redis.port}`, [], false);
  await sleep(2500);
  assert.equal(await health(wrong), 503);
  assert.equal((wrong.log.match(/refused the credentials of user rostrum/g) || []).length, 1, wrong.log);
  await assertNoPassword(wrong, PW);

  // The user's password changed and its connections cut: every reconnection
  // is refused; /healthz 503, commands unavailable, the client stays.
  const ch = await admin([['ACL', 'SETUSER', 'rostrum', 'resetpass', `>${PW2}`], ['CLIENT', 'KILL', 'USER', 'rostrum']]);
  assert.equal(ch[1], '+OK');
  await waitHealth(a, 503);
  await sleep(2000);
  assert.equal((a.log.match(/refused the credentials of user rostrum/g) || []).length, 1, a.log);
  const { reply } = await act(c, { type: 'say', text: 'x' });
  assert.equal(reply.code, 'unavailable');
  // Redis accepts the old password again: the nodes recover by themselves.
  await admin([['ACL', 'SETUSER', 'rostrum', `>${PW}`]]);
  await waitHealth(a, 200, 15000);
  await waitHealth(b, 200, 15000);
  const { reply: back } = await act(c, { type: 'say', text: 'back' });
  assert.equal(back.type, 'ack', JSON.stringify(back));
  assert.equal(c.closed, null);
  await assertNoPassword(a, PW, PW2);
  await assertNoPassword(b, PW, PW2);
});

test('--help does not show a password; bad URLs and a user without password are refused at start', async () => {
  const help = await runServer(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--redis-password-file PATH/);
  assert.match(help.stdout, /redis:\/\/\[USER\[:PASSWORD\]@\]HOST:PORT\[\/DB\]/);
  const bad = await runServer(['--listen', '127.0.0.1:0', '--redis', `redis://u:${PW}@:6379`]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no host/);
  assert.ok(!bad.stderr.includes(PW));
  const nopw = await runServer(['--listen', '127.0.0.1:0', '--redis', 'redis://someone@127.0.0.1:6379']);
  assert.equal(nopw.code, 2);
  assert.match(nopw.stderr, /names a user but no password/);
  const dir = fs.mkdtempSync('/tmp/rostrum-pwf-');
  const loose = path.join(dir, 'pw');
  fs.writeFileSync(loose, PW, { mode: 0o644 });
  fs.chmodSync(loose, 0o644);
  const world = await runServer(['--listen', '127.0.0.1:0', '--redis', 'redis://127.0.0.1:6379', '--redis-password-file', loose]);
  assert.equal(world.code, 2);
  assert.match(world.stderr, /accessible by other users/);
  const short = path.join(dir, 'short');
  fs.writeFileSync(short, 'pw-short\n', { mode: 0o600 });
  const sh = await runServer(['--listen', '127.0.0.1:0', '--redis', 'redis://127.0.0.1:6379', '--redis-password-file', short]);
  assert.equal(sh.code, 2);
  assert.match(sh.stderr, /redis password file .* must hold at least 16 characters/);
});
