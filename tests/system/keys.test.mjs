// Key rotation without a restart (contract section 11): several "KID SECRET"
// lines, the first signs; a token with kid is checked against that key only,
// one without kid against the first line; SIGHUP rereads the secret and
// admin key files while clients stay connected; a file that no longer
// parses keeps the old keys and says why.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { root, startServer, stopChecked, mintToken, join, claims, act, newRoom, decodeToken, api } from '../lib/harness.mjs';

const servers = [];
after(async () => { for (const s of servers) { try { await s.stop('SIGKILL'); } catch { /* gone */ } } });

const S1 = `one-${randomBytes(16).toString('hex')}`;
const S2 = `two-${randomBytes(16).toString('hex')}`;

function write(file, text) {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

async function hup(server, re) {
  const from = server.log.length;
  server.proc.kill('SIGHUP');
  const deadline = Date.now() + 5000;
  while (!re.test(server.log.slice(from))) {
    if (Date.now() > deadline) throw new Error(`no ${re} after SIGHUP:\n${server.log.slice(from)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function joins(server, token) {
  const { client, welcome } = await join(server, token);
  if (welcome.type === 'welcome') return client;
  const close = await client.waitClose();
  return { refused: welcome, close };
}

test('rotation: a new first key signs, the old one still verifies until removed; open connections stay', async () => {
  const s = await startServer();
  servers.push(s);
  const secretFile = path.join(s.dir, 'secret');
  const adminFile = path.join(s.dir, 'admin-key');
  // The server started with the one-secret form; move to ids.
  write(secretFile, `k1 ${S1}\n`);
  await hup(s, /1 token key from .* \(first: k1\)/);
  const { id: room } = await newRoom(s);

  const oldTok = mintToken(S1, claims(room, 'delegate', 'd-old'), { kid: 'k1' });
  const oldTok2 = mintToken(S1, claims(room, 'delegate', 'd-old2'), { kid: 'k1' });
  const plainOld = mintToken(S1, claims(room, 'delegate', 'd-plain'));
  const a = await joins(s, oldTok);
  assert.ok(a.send, JSON.stringify(a));
  // The API mints with the first key: k1, its kid in the header.
  let r = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'm1', name: 'Chair', role: 'moderator' });
  assert.equal(r.status, 201);
  assert.equal(JSON.parse(Buffer.from(r.json.token.split('.')[0], 'base64url')).kid, 'k1');

  // Rotate: k2 first, k1 kept for the tokens already handed out.
  write(secretFile, `# rotated\nk2 ${S2}\nk1 ${S1}\n`);
  await hup(s, /2 token keys from .* \(first: k2\)/);
  r = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'm1', name: 'Chair', role: 'moderator' });
  assert.equal(JSON.parse(Buffer.from(r.json.token.split('.')[0], 'base64url')).kid, 'k2');
  const chair = await joins(s, r.json.token);
  assert.ok(chair.send);
  const b = await joins(s, oldTok2);
  assert.ok(b.send, 'an old-key token still joins while k1 is in the file');
  // Without kid: the first line (k2) only.
  const plainNew = await joins(s, mintToken(S2, claims(room, 'delegate', 'd-plain2')));
  assert.ok(plainNew.send);
  const plain = await joins(s, plainOld);
  assert.equal(plain.refused.code, 'unauthorized');
  assert.equal(plain.close.code, 4401);
  // A kid is checked against its own key only.
  const swapped = await joins(s, mintToken(S1, claims(room, 'delegate', 'd-x'), { kid: 'k2' }));
  assert.equal(swapped.close.code, 4401);

  // The CLI signs offline with the same file as the server reads it: the
  // first key, its kid in the header.
  const cli = await new Promise((resolve) => execFile(path.join(root, 'build', 'clients', 'cli', 'rostrum'),
    ['token', '--secret-file', secretFile, '--room', room, '--sub', 'd-cli', '--name', 'Cli', '--role', 'delegate'],
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr })));
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(Buffer.from(cli.stdout.split('.')[0], 'base64url')).kid, 'k2');
  const viaCli = await joins(s, cli.stdout.trim());
  assert.ok(viaCli.send, 'a CLI token signed with the first key joins');

  // k1 removed: its tokens are refused from now on; open connections stay.
  write(secretFile, `k2 ${S2}\n`);
  await hup(s, /1 token key from .* \(first: k2\)/);
  const gone = await joins(s, mintToken(S1, claims(room, 'delegate', 'd-old3'), { kid: 'k1' }));
  assert.equal(gone.refused.code, 'unauthorized');
  assert.equal(gone.close.code, 4401);
  const again = await joins(s, oldTok);
  assert.equal(again.close.code, 4401, 'the same token that joined before');
  for (const c of [a, b]) {
    const { reply } = await act(c, { type: 'request_floor' });
    assert.equal(reply.type, 'ack', 'a connection joined with the old key stays and acts');
  }

  // A file that no longer parses keeps the old keys and says why.
  write(secretFile, `k3 ${S1}\nk3 ${S2}\n`);
  await hup(s, /SIGHUP: secret file .*: line 2: key id used twice; the old keys stay/);
  write(secretFile, `short\n`);
  await hup(s, /must hold at least 16 characters; the old keys stay/);
  const still = await joins(s, mintToken(S2, claims(room, 'delegate', 'd-still'), { kid: 'k2' }));
  assert.ok(still.send, 'k2 still verifies');
  assert.ok(!s.log.includes(S1) && !s.log.includes(S2), 'no secret in the log');

  // The admin key file too.
  const oldAdmin = s.adminKey;
  const newAdmin = randomBytes(16).toString('hex');
  write(adminFile, `${newAdmin}\n`);
  await hup(s, /admin key reread/);
  assert.equal((await api(s.http, oldAdmin, 'GET', '/api/rooms')).status, 401);
  assert.equal((await api(s.http, newAdmin, 'GET', '/api/rooms')).status, 200);
  fs.chmodSync(adminFile, 0o644);
  await hup(s, /accessible by other users .*; the old admin key stays/);
  assert.equal((await api(s.http, newAdmin, 'GET', '/api/rooms')).status, 200);
  assert.ok(!s.log.includes(newAdmin) && !s.log.includes(oldAdmin), 'no admin key in the log');
  s.adminKey = newAdmin;
  await stopChecked(s);
});

test('a secret file that does not parse refuses to start, saying which line', async () => {
  const s = await startServer();
  servers.push(s);
  await s.stop();
  write(path.join(s.dir, 'secret'), `k1 ${S1}\n${S2}\n`);
  const { spawnSync } = await import('node:child_process');
  const { serverBin } = await import('../lib/harness.mjs');
  const r = spawnSync(serverBin, ['--listen', '127.0.0.1:0', '--secret-file', path.join(s.dir, 'secret')], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /line 2: want KID SECRET/);
  assert.ok(!r.stderr.includes(S2));
});

test('the token API mints a jti (random, or the one asked for) and refuses a bad one', async () => {
  const s = await startServer();
  servers.push(s);
  const { id: room } = await newRoom(s);
  const r = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'd1', name: 'D', role: 'delegate' });
  assert.equal(r.status, 201);
  assert.match(r.json.jti, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(decodeToken(r.json.token).jti, r.json.jti);
  const r2 = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'd1', name: 'D', role: 'delegate', jti: 'invite-7' });
  assert.equal(decodeToken(r2.json.token).jti, 'invite-7');
  const bad = await s.api('POST', `/api/rooms/${room}/tokens`, { sub: 'd1', name: 'D', role: 'delegate', jti: 'no spaces' });
  assert.equal(bad.status, 400);
  // A token with an invalid jti is refused at join.
  const j = await joins(s, s.token(claims(room, 'delegate', 'd2', { jti: 'a/b' })));
  assert.equal(j.close.code, 4401);
  await stopChecked(s);
});

test('without --secret-file, the secret kept in --data-dir is the file SIGHUP rereads', async () => {
  const s = await startServer({ secretFile: false });
  servers.push(s);
  const file = path.join(s.dir, 'data', 'secret');
  const generated = fs.readFileSync(file, 'utf8').trim();
  const { id: room } = await newRoom(s);
  assert.ok((await joins(s, mintToken(generated, claims(room, 'delegate', 'd1')))).send, 'the generated secret signs');
  write(file, `k9 ${S2}\n${`old ${generated}`}\n`);
  await hup(s, /2 token keys from .*data\/secret \(first: k9\)/);
  assert.ok((await joins(s, mintToken(S2, claims(room, 'delegate', 'd2'), { kid: 'k9' }))).send);
  assert.ok((await joins(s, mintToken(generated, claims(room, 'delegate', 'd3'), { kid: 'old' }))).send);
  const plain = await joins(s, mintToken(generated, claims(room, 'delegate', 'd4')));
  assert.equal(plain.close.code, 4401, 'without kid: the first line only');
  await stopChecked(s);
});
