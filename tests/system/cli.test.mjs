// The command-line client (`rostrum`) and a smoke run of the load generator
// (`rostrum-bench`), driven against a real server as a user would: through
// their flags, standard input and output, and exit codes (docs/cli.md).
// ROSTRUM_CLI / ROSTRUM_BENCH point at the binaries (default: build/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import {
  root, startServer, newRoom, enter, act, join, claims, decodeToken, sleep,
} from '../lib/harness.mjs';

const cli = process.env.ROSTRUM_CLI || path.join(root, 'build', 'clients', 'cli', 'rostrum');
const bench = process.env.ROSTRUM_BENCH ||
  path.join(path.dirname(path.dirname(cli)), 'bench', 'rostrum-bench');

let server;
let adminFile;
let secretFile;
before(async () => {
  server = await startServer();
  adminFile = path.join(server.dir, 'admin-key');
  secretFile = path.join(server.dir, 'secret');
});
after(async () => { await server?.stop(); });

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

// Runs bin with args; input goes to its standard input. Resolves with
// { code, signal, stdout, stderr }.
function run(args, { input = '', env = {}, ms = 20000, bin = cli } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${path.basename(bin)} ${args.join(' ')} did not exit in ${ms} ms:\n${stdout}\n${stderr}`));
    }, ms);
    p.on('error', (e) => { clearTimeout(t); reject(e); });
    p.on('exit', (code, signal) => {
      live.delete(p);
      clearTimeout(t);
      if (/Sanitizer|runtime error:/.test(stderr)) reject(new Error(`${path.basename(bin)} ${args.join(' ')}:\n${stderr}`));
      else resolve({ code, signal, stdout, stderr });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

// A long-running child (watch): collects its output; waitFor(re) resolves
// when stdout matches.
function start(args, env = {}) {
  const p = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(p);
  const h = { p, stdout: '', stderr: '', exited: null };
  p.stdout.on('data', (d) => { h.stdout += d; });
  p.stderr.on('data', (d) => { h.stderr += d; });
  h.exited = new Promise((resolve, reject) => p.on('exit', (code, signal) => {
    live.delete(p);
    if (/Sanitizer|runtime error:/.test(h.stderr)) reject(new Error(`rostrum ${args.join(' ')}:\n${h.stderr}`));
    else resolve({ code, signal });
  }));
  h.waitFor = async (re, ms = 8000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = h.stdout.match(re);
      if (m) return m;
      if (p.exitCode !== null) throw new Error(`exited ${p.exitCode} before ${re}:\n${h.stdout}\n${h.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${re} in:\n${h.stdout}\n${h.stderr}`);
      await sleep(25);
    }
  };
  return h;
}

const admin = () => ['--api', server.http, '--admin-key-file', adminFile];
const invite = (room, role, sub, extra = {}) => `${server.http}/#t=${server.token(claims(room, role, sub, extra))}`;
let n = 0;
const rid = (p = 'cli') => `${p}-${process.pid}-${++n}`;

test('--help on every command, exit 0; usage errors exit 2', async () => {
  const top = await run(['--help']);
  assert.equal(top.code, 0);
  for (const word of ['token', 'room', 'watch', 'join', 'Exit status']) assert.match(top.stdout, new RegExp(word));
  const cases = [
    ['token', '--help'], ['room', '--help'], ['room', 'create', '--help'], ['room', 'list', '--help'],
    ['room', 'show', '--help'], ['room', 'close', '--help'], ['room', 'transcript', '--help'],
    ['watch', '--help'], ['join', '--help'], ['help', 'join'],
  ];
  for (const args of cases) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: rostrum/, args.join(' '));
    assert.match(r.stdout, /Exit status/, args.join(' '));
  }
  const join = await run(['join', '--help']);
  for (const cmd of ['/request', '/withdraw', '/yield', '/say', '/next', '/grant', '/end', '/pause',
    '/resume', '/extend', '/move', '/mute']) assert.ok(join.stdout.includes(cmd), `join --help lacks ${cmd}`);
  const b = await run(['--help'], { bin: bench });
  assert.equal(b.code, 0);
  for (const word of ['plenary', 'rooms', 'storm', 'idle', '--room', '--source-ips']) assert.ok(b.stdout.includes(word), word);
  for (const sc of ['plenary', 'rooms', 'storm', 'idle']) {
    const h = await run([sc, '--help'], { bin: bench });
    assert.equal(h.code, 0, sc);
    assert.match(h.stdout, new RegExp(`^Usage: rostrum-bench ${sc} `), sc);
    assert.match(h.stdout, /--room ID/, sc);
  }
  for (const args of [[], ['bogus'], ['token'], ['token', '--room', 'x'], ['room'], ['room', 'bogus'],
    ['room', 'list', '--bogus'], ['watch'], ['join', '--url', 'ftp://x'], ['join', server.http]]) {
    const r = await run(args, { env: { ROSTRUM_URL: '', ROSTRUM_TOKEN: '', ROSTRUM_API: '' } });
    assert.equal(r.code, 2, `${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0, `${args.join(' ')}: no message`);
  }
  assert.equal((await run(['plenary'], { bin: bench })).code, 2);
  assert.equal((await run(['--version'])).code, 0);
});

test('token: signed offline with the secret file, accepted by the server', async () => {
  const room = await newRoom(server);
  const r = await run(['token', '--secret-file', secretFile, '--room', room.id, '--sub', 'fr', '--name',
    'Délégué de la France', '--role', 'delegate', '--delegation', 'France', '--category', 'member_state',
    '--ttl', '600']);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  const c = decodeToken(token);
  assert.equal(c.sub, 'fr');
  assert.equal(c.name, 'Délégué de la France');
  assert.equal(c.room, room.id);
  assert.equal(c.role, 'delegate');
  assert.equal(c.delegation, 'France');
  assert.equal(c.category, 'member_state');
  assert.ok(Math.abs(c.exp - Date.now() / 1000 - 600) < 5, `exp ${c.exp}`);
  const { welcome, client } = await join(server, token);
  assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
  assert.equal(welcome.you.delegation, 'France');
  client.close();
  // --invite --url prints BASE/#t=TOKEN; ROSTRUM_SECRET holds the secret itself.
  const inv = await run(['token', '--room', room.id, '--sub', 'o1', '--name', 'O', '--role', 'observer',
    '--invite', '--url', `${server.http}/`], { env: { ROSTRUM_SECRET: server.secret } });
  assert.equal(inv.code, 0, inv.stderr);
  assert.match(inv.stdout.trim(), new RegExp(`^${server.http}/#t=ey[^/]+$`));
  // Refusals of the arguments.
  for (const bad of [['--role', 'king'], ['--sub', 'a b'], ['--category', 'x'], ['--ttl', '5']]) {
    const args = ['token', '--secret-file', secretFile, '--room', room.id, '--sub', 's', '--name', 'N', '--role', 'observer'];
    const i = args.indexOf(bad[0]);
    if (i >= 0) args[i + 1] = bad[1]; else args.push(...bad);
    assert.equal((await run(args)).code, 2, bad.join(' '));
  }
});

test('token --api: minted by the admin API; refusals exit 1, no server exit 3', async () => {
  const room = await newRoom(server);
  const r = await run(['token', ...admin(), '--room', room.id, '--sub', 'chair', '--name', 'Chair', '--role', 'moderator']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(decodeToken(r.stdout.trim()).role, 'moderator');
  const inv = await run(['token', ...admin(), '--room', room.id, '--sub', 'chair', '--name', 'Chair', '--role', 'moderator', '--invite']);
  assert.equal(inv.code, 0, inv.stderr);
  assert.match(inv.stdout, /\/#t=ey/);
  const missing = await run(['token', ...admin(), '--room', 'no-such-room', '--sub', 'a', '--name', 'A', '--role', 'observer']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404/);
  const down = await run(['token', '--api', 'http://127.0.0.1:1', '--admin-key-file', adminFile, '--room', room.id,
    '--sub', 'a', '--name', 'A', '--role', 'observer']);
  assert.equal(down.code, 3, down.stderr);
});

test('room create, list, show, close, transcript', async () => {
  const id = rid();
  const c = await run(['room', 'create', ...admin(), '--id', id, '--title', 'Closing discussion',
    '--agenda-item', 'q1=What are the needs?', '--agenda-item', 'q2=Synergies', '--speech-s', '120',
    '--queue-order', 'category', '--list-closed', '--set', 'replies_per_item=1', '--json']);
  assert.equal(c.code, 0, c.stderr);
  const snap = JSON.parse(c.stdout);
  assert.equal(snap.id, id);
  assert.deepEqual(snap.agenda, [{ id: 'q1', title: 'What are the needs?' }, { id: 'q2', title: 'Synergies' }]);
  assert.equal(snap.settings.speech_s, 120);
  assert.equal(snap.settings.queue_order, 'category');
  assert.equal(snap.settings.list_open, false);
  assert.equal(snap.settings.replies_per_item, 1);
  const got = await server.api('GET', `/api/rooms/${id}`);
  assert.equal(got.json.settings.speech_s, 120);

  const again = await run(['room', 'create', ...admin(), id, '--title', 'Again']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /409/);
  const invalid = await run(['room', 'create', ...admin(), rid(), '--title', 'X', '--set', 'speech_s=-4']);
  assert.equal(invalid.code, 1, invalid.stderr);
  assert.match(invalid.stderr, /400/);

  const list = await run(['room', 'list', ...admin()]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${id}\\s+open\\s+0\\s+0\\s+Closing discussion`));
  const listJson = JSON.parse((await run(['room', 'list', ...admin(), '--json'])).stdout);
  assert.ok(listJson.some((r) => r.id === id));

  const { c: chair } = await enter(server, id, 'moderator', 'chair', { name: 'Chair' });
  await act(chair, { type: 'open_list' });
  const { c: fr } = await enter(server, id, 'delegate', 'fr', { name: 'Delegate of France', delegation: 'France' });
  await act(fr, { type: 'request_floor' });
  const show = await run(['room', 'show', id, ...admin()]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /Closing discussion/);
  assert.match(show.stdout, /\* q1 +What are the needs\?/);
  assert.match(show.stdout, /1\. \[r\d+\] Delegate of France \(France\), speech/);
  assert.match(show.stdout, /Participants \(2 online of 2; 0 observers\)/);
  assert.match(show.stdout, /speech 2:00/);
  const showJson = JSON.parse((await run(['room', 'show', id, ...admin(), '--json'])).stdout);
  assert.equal(showJson.queue.length, 1);
  assert.equal((await run(['room', 'show', 'no-such-room', ...admin()])).code, 1);

  const md = await run(['room', 'transcript', id, ...admin()]);
  assert.equal(md.code, 0, md.stderr);
  assert.ok(md.stdout.length > 0);
  for (const format of ['json', 'csv']) {
    const out = path.join(server.dir, `t.${format}`);
    const r = await run(['room', 'transcript', id, ...admin(), '--format', format, '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(text.length > 0);
    if (format === 'json') JSON.parse(text);
  }
  assert.equal((await run(['room', 'transcript', id, ...admin(), '--format', 'pdf'])).code, 2);

  const closed = await run(['room', 'close', id, ...admin()]);
  assert.equal(closed.code, 0, closed.stderr);
  assert.match(closed.stdout, /closed/);
  await fr.waitEvent('status_changed', (e) => e.data.status === 'closed');
  assert.equal((await server.api('GET', `/api/rooms/${id}`)).json.status, 'closed');
  chair.close();
  fr.close();

  // The key and the server are checked: wrong key 1, no server 3.
  const wrongKey = path.join(server.dir, 'wrong-key');
  fs.writeFileSync(wrongKey, 'not-the-admin-key-at-all', { mode: 0o600 });
  const denied = await run(['room', 'list', '--api', server.http, '--admin-key-file', wrongKey]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /401/);
  assert.equal((await run(['room', 'list', '--api', 'http://127.0.0.1:1', '--admin-key-file', adminFile])).code, 3);
  assert.equal((await run(['room', 'list', '--api', server.http, '--admin-key-file', '/nonexistent'])).code, 2);
  // ROSTRUM_API and ROSTRUM_ADMIN_KEY stand in for the flags.
  const env = await run(['room', 'list'], { env: { ROSTRUM_API: server.http, ROSTRUM_ADMIN_KEY: server.adminKey } });
  assert.equal(env.code, 0, env.stderr);
});

test('join: a delegate scripted from a pipe; events and replies printed; exit 0', async () => {
  const room = await newRoom(server);
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  const r = await run(['join', invite(room.id, 'delegate', 'fr', { name: 'Delegate of France', delegation: 'France' })], {
    input: '/request\n/say Thank you, Chair\n/withdraw\n# a comment\n\n/request reply fr\nplain text is chat\n/ping\n',
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], new RegExp(`^joined ${room.id} .* as Delegate of France \\(France\\) \\[delegate\\]`));
  assert.match(r.stdout, /#1 \d\d:\d\d:\d\d Delegate of France \(France\) asks for the floor: speech \[r\d+\]/);
  assert.match(r.stdout, /^ok \/request \(seq 1\)$/m);
  assert.match(r.stdout, /Delegate of France \(France\): Thank you, Chair/);
  assert.match(r.stdout, /request \[r\d+\] withdrawn/);
  assert.match(r.stdout, /^ok \/withdraw \(seq 3\)$/m);
  assert.match(r.stdout, /right of reply \(in fr\)/);
  assert.match(r.stdout, /: plain text is chat$/m);
  assert.match(r.stdout, /^pong: \d+ ms round trip$/m);
  // The event of each command is printed before its ok (read-your-writes).
  assert.ok(r.stdout.indexOf('asks for the floor: speech') < r.stdout.indexOf('ok /request (seq 1)'));
  const snap = (await server.api('GET', `/api/rooms/${room.id}`)).json;
  assert.equal(snap.queue.length, 1);
  assert.equal(snap.queue[0].kind, 'reply');
  assert.equal(snap.queue[0].lang, 'fr');
  await chair.waitEvent('message', (e) => e.data.text === 'plain text is chat');
  chair.close();
});

test('join: a chair runs the floor; refusals exit 1, bad lines exit 2, --json', async () => {
  const room = await newRoom(server);
  const { c: fr } = await enter(server, room.id, 'delegate', 'fr', { name: 'France' });
  const { c: es } = await enter(server, room.id, 'delegate', 'es', { name: 'Spain' });
  const rq1 = await act(fr, { type: 'request_floor' });
  const rq2 = await act(es, { type: 'request_floor' });
  const r2 = rq2.events.at(-1).data.request.id;
  const chairUrl = invite(room.id, 'moderator', 'chair', { name: 'Chair' });
  const r = await run(['join', '--url', server.http, '--token', new URL(chairUrl).hash.slice(3), '--quiet'], {
    input: `/move ${r2} 1\n/next\n/pause\n/resume\n/extend 30\n/announce Welcome\n/mute es\n/unmute es\n` +
      '/close-list\n/open-list\n/set speech_s=90 chat=floor\n/item q2\n/end\n/state\n',
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stdout, /^ok /m, '--quiet prints no ok lines');
  for (const re of [/moved to position 1/, /Spain has the floor: speech, 3:00/, /clock paused by Chair/, /clock resumed by Chair/,
    /30 s more for the speaker/, /ANNOUNCEMENT from Chair: Welcome/, /Spain muted by Chair/, /Spain unmuted by Chair/,
    /speakers list closed/, /speakers list opened/, /settings changed: speech_s=90 chat="floor"/, /agenda item q2/,
    /Spain's floor ended after \d:\d\d \(ended by the chair\)/, /^Room .* \[open\]/m]) {
    assert.match(r.stdout, re);
  }
  assert.ok(rq1.reply.type === 'ack');
  const snap = (await server.api('GET', `/api/rooms/${room.id}`)).json;
  assert.equal(snap.settings.speech_s, 90);
  assert.equal(snap.agenda_item, 'q2');
  assert.equal(snap.floor, null);

  // A refused command: exit 1, the refusal printed with its code.
  const refused = await run(['join', chairUrl], { input: '/grant r999\n/yield\n' });
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stdout, /^refused \/grant r999: not_found: /m);
  // A line the CLI does not understand: exit 2, nothing sent for it.
  const bad = await run(['join', chairUrl], { input: '/frobnicate\n/extend many\n' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command \/frobnicate/);
  assert.match(bad.stderr, /\/extend wants a number/);
  // --json: every server message as received, one a line.
  const js = await run(['join', chairUrl, '--json'], { input: '/announce json\n' });
  assert.equal(js.code, 0, js.stderr);
  const msgs = js.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(msgs[0].type, 'welcome');
  const ev = msgs.find((m) => m.type === 'event' && m.name === 'message');
  assert.equal(ev.data.text, 'json');
  assert.ok(msgs.some((m) => m.type === 'ack'));
  // /quit leaves before the rest of the input.
  const quit = await run(['join', chairUrl], { input: '/quit\n/announce never\n' });
  assert.equal(quit.code, 0, quit.stderr);
  assert.doesNotMatch(quit.stdout, /never/);
  fr.close();
  es.close();
});

test('join: refused tokens exit 1, no server exits 3, replies that never come exit 3', async () => {
  const room = await newRoom(server);
  const wrong = `${server.http}/#t=${server.token(claims(room.id, 'delegate', 'x')).slice(0, -4)}AAAA`;
  const denied = await run(['join', wrong]);
  assert.equal(denied.code, 1, denied.stderr);
  assert.match(denied.stderr, /4401/);
  const noRoom = await run(['join', invite('no-such-room-here', 'observer', 'o')]);
  assert.equal(noRoom.code, 1, noRoom.stderr);
  const down = await run(['join', '--url', 'http://127.0.0.1:1', '--token', 'x']);
  assert.equal(down.code, 3, down.stderr);
  assert.match(down.stderr, /cannot connect/);
  // The token from a file and from the environment.
  const tokFile = path.join(server.dir, 'tok');
  fs.writeFileSync(tokFile, `${server.token(claims(room.id, 'observer', 'o2'))}\n`, { mode: 0o600 });
  const fromFile = await run(['join', '--url', server.ws, '--token-file', tokFile]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  const fromEnv = await run(['join'], { env: { ROSTRUM_URL: server.http, ROSTRUM_TOKEN: server.token(claims(room.id, 'observer', 'o3')) } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  // An observer's say is refused (forbidden): exit 1.
  const obs = await run(['join', invite(room.id, 'observer', 'o4')], { input: 'hello\n' });
  assert.equal(obs.code, 1);
  assert.match(obs.stdout, /refused hello: forbidden/);
  // A server that welcomes and then never answers: --timeout, exit 3.
  const mute = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'rostrum.v1' });
  await new Promise((resolve) => mute.on('listening', resolve));
  mute.on('connection', (ws) => ws.once('message', () => ws.send(JSON.stringify({
    type: 'welcome', seq: 0, epoch: 'e', resumed: false, you: { sub: 'x', name: 'X', role: 'delegate' },
    room: { id: 'r', title: 'Mute', status: 'open', agenda: [], queue: [], floor: null, settings: {} },
    participants: [], observers: 0, events: [],
  }))));
  try {
    const t0 = Date.now();
    const silent = await run(['join', '--url', `ws://127.0.0.1:${mute.address().port}/ws`, '--token', 'x', '--timeout', '1'],
      { input: '/yield\n/yield\n' });
    assert.equal(silent.code, 3, silent.stderr);
    assert.match(silent.stderr, /no reply to '\/yield' within 1 s/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    for (const c of mute.clients) c.terminate();
    mute.close();
  }
});

test('watch: a line per event when stdout is not a terminal; Ctrl-C leaves with 0', async () => {
  const room = await newRoom(server);
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  await act(chair, { type: 'announce', text: 'before the watch' });
  const w = start(['watch', invite(room.id, 'observer', 'press', { name: 'Press' })]);
  await w.waitFor(new RegExp(`^joined ${room.id} .* as Press \\[observer\\]; seq 1`, 'm'));
  await w.waitFor(/^#1 \d\d:\d\d:\d\d ANNOUNCEMENT from Chair: before the watch$/m);
  const { c: fr } = await enter(server, room.id, 'delegate', 'fr', { name: 'Delegate of France', delegation: 'France' });
  await w.waitFor(/^\+ Delegate of France \(France\) \[delegate\] is online$/m);
  await act(fr, { type: 'request_floor', lang: 'fr' });
  await act(chair, { type: 'grant' });
  await act(chair, { type: 'extend', seconds: 60 });
  await act(fr, { type: 'say', text: 'Merci' });
  await act(fr, { type: 'yield' });
  await w.waitFor(/^#2 .* asks for the floor: speech \(in fr\) \[r\d+\]$/m);
  await w.waitFor(/^#3 .* Delegate of France \(France\) has the floor: speech, 3:00$/m);
  await w.waitFor(/^#4 .* 60 s more for the speaker$/m);
  await w.waitFor(/^#5 .* Delegate of France \(France\): Merci$/m);
  await w.waitFor(/^#6 .* floor ended after \d:\d\d \(yielded\)$/m);
  fr.close();
  await w.waitFor(/^- Delegate of France \(France\) \[delegate\] is offline$/m);
  w.p.kill('SIGINT');
  const { code } = await w.exited;
  assert.equal(code, 0, w.stderr);
  // --json and the close by the server: the room's removal of the watcher exits 1.
  const j = start(['watch', '--json', invite(room.id, 'delegate', 'es', { name: 'Spain' })]);
  await j.waitFor(/"type":"welcome"/);
  await act(chair, { type: 'announce', text: 'as json' });
  await j.waitFor(/"text":"as json"/);
  for (const line of j.stdout.trim().split('\n')) JSON.parse(line);
  await act(chair, { type: 'remove', sub: 'es' });
  const gone = await j.exited;
  assert.equal(gone.code, 1, j.stderr);
  assert.match(j.stderr, /4403/);
  chair.close();
});

test('watch: on a terminal, a redrawn screen with the speaker and the countdown', async (t) => {
  let hasScript = true;
  try { execFileSync('script', ['--version'], { stdio: 'ignore' }); } catch { hasScript = false; }
  if (!hasScript) { t.skip('script(1) is not installed'); return; }
  const room = await newRoom(server, { title: 'Screen test' });
  const { c: fr } = await enter(server, room.id, 'delegate', 'fr', { name: 'Delegate of France', delegation: 'France' });
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  await act(chair, { type: 'update_settings', settings: { pause_on_disconnect: false } });
  await act(fr, { type: 'request_floor' });
  await act(chair, { type: 'grant' });
  await act(fr, { type: 'say', text: 'On screen' });
  const url = invite(room.id, 'observer', 'tty');
  const cmd = `stty rows 24 cols 100; exec '${cli}' watch '${url}'`;
  const p = spawn('script', ['-qfc', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(p);
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => p.on('exit', (code) => { live.delete(p); resolve(code); }));
  const deadline = Date.now() + 8000;
  // Two frames at least one second apart: the countdown moves.
  while (Date.now() < deadline && (out.match(/FLOOR/g) || []).length < 6) await sleep(100);
  p.stdin.write('\x03'); // Ctrl-C through the terminal
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  const code = await exited;
  clearTimeout(timer);
  const plain = out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
  assert.match(out, /\x1b\[\?1049h/, 'the alternate screen is used');
  assert.match(out, /\x1b\[\?1049l/, 'and left again');
  assert.match(plain, /Screen test +\[open\]/);
  assert.match(plain, /FLOOR +Delegate of France \(France\), speech: 2:5\d left/);
  assert.match(plain, /On screen/);
  const left = [...plain.matchAll(/speech: (\d):(\d\d) left/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  assert.ok(new Set(left).size >= 2, `the countdown did not move: ${left}`);
  assert.equal(code, 0);
  fr.close();
  chair.close();
});

test('projection (contract 9.2): room show and watch give position, about N min, the segment end and the overrun', async (t) => {
  const id = rid();
  const made = await server.api('POST', '/api/rooms', {
    id, title: 'Short segment', agenda: [{ id: 'q1', title: 'Only question', planned_s: 300 }],
  });
  assert.equal(made.status, 201, made.text);
  for (const sub of ['fr', 'de', 'it']) {
    const { c } = await enter(server, id, 'delegate', sub, { name: `Delegate ${sub}` });
    await act(c, { type: 'request_floor' });
    c.close();
  }
  // 3 speeches of 3:00 with 0:15 between them end at 9:30 into a 5:00
  // segment: 4:30 over; at 1:30 per speech the list fits.
  const show = await run(['room', 'show', id, ...admin()]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /Segment: segment ends \d\d:\d\d:\d\d; the list ends \d\d:\d\d:\d\d, 4:\d\d over \(at 1:\d\d per speech the list fits\)/);
  assert.match(show.stdout, /1\. \[r\d+\] Delegate fr, speech - in under a minute\n/);
  assert.match(show.stdout, /2\. \[r\d+\] Delegate de, speech - about 3 min - may not be reached in this segment/);
  assert.match(show.stdout, /3\. \[r\d+\] Delegate it, speech - about [67] min - may not be reached in this segment/);

  let hasScript = true;
  try { execFileSync('script', ['--version'], { stdio: 'ignore' }); } catch { hasScript = false; }
  if (!hasScript) { t.skip('script(1) is not installed'); return; }
  const cmd = `stty rows 30 cols 140; exec '${cli}' watch '${invite(id, 'observer', 'tty2')}'`;
  const p = spawn('script', ['-qfc', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(p);
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => p.on('exit', (code) => { live.delete(p); resolve(code); }));
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline && !/may not be reached/.test(out)) await sleep(100);
  p.stdin.write('\x03');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  const code = await exited;
  clearTimeout(timer);
  const plain = out.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
  assert.match(plain, /SEGMENT +segment ends \d\d:\d\d:\d\d; the list ends \d\d:\d\d:\d\d, 4:\d\d over/);
  assert.match(plain, /3\. \[r\d+\] Delegate it, speech - about [67] min - may not be reached in this segment/);
  assert.equal(code, 0);

  // the log form (not a terminal): a line for a new schedule and agenda
  const w = start(['watch', invite(id, 'observer', 'log')]);
  await w.waitFor(/^joined /m);
  const { c: chair } = await enter(server, id, 'moderator', 'chair', { name: 'Chair' });
  await act(chair, { type: 'set_schedule', schedule: { starts_at: Date.now(), ends_at: Date.now() + 7200000, time_zone: 'Europe/Vienna' } });
  await act(chair, { type: 'set_agenda', agenda: [{ id: 'q1', title: 'Only question', planned_s: 300 }, { id: 'usg', title: 'Conclusions', planned_s: 900, reserved: true }] });
  await w.waitFor(/^#\d+ \d\d:\d\d:\d\d .*schedule: \d\d:\d\d:\d\d to \d\d:\d\d:\d\d \(local time; the meeting's zone is Europe\/Vienna\)$/m);
  await w.waitFor(/^#\d+ \d\d:\d\d:\d\d .*agenda changed: q1 \(5:00\), usg \(15:00, reserved\)$/m);
  w.p.kill('SIGINT');
  assert.equal((await w.exited).code, 0);
  chair.close();
});

test('rostrum-bench: plenary smoke run delivers every message', async () => {
  const r = await run(['plenary', '--url', server.http, '--admin-key-file', adminFile, '--secret-file', secretFile,
    '--observers', '50', '--delegates', '5', '--duration', '2', '--quiet'], { bin: bench, ms: 60000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  const res = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(res).slice(0, 9),
    ['scenario', 'connections', 'sent', 'delivered', 'expected', 'deliveries_per_s', 'latency_ms', 'connect_s', 'errors']);
  assert.deepEqual(Object.keys(res.latency_ms), ['p50', 'p99', 'max']);
  assert.equal(res.scenario, 'plenary');
  assert.equal(res.connections, 55);
  assert.ok(res.sent > 0);
  assert.equal(res.delivered, res.expected);
  assert.equal(res.expected, res.sent * 55);
  assert.equal(res.errors, 0);
  assert.ok(res.latency_ms.p50 <= res.latency_ms.p99 && res.latency_ms.p99 <= res.latency_ms.max);
});

test('rostrum-bench: rooms at a fixed rate, storm, and idle with the server RSS', async () => {
  const rooms = await run(['rooms', '--url', server.ws, '--admin-key-file', adminFile, '--secret-file', secretFile,
    '--rooms', '3', '--per-room', '10', '--delegates', '2', '--rate', '30', '--duration', '1', '--room', rid('bench'), '--quiet'],
  { bin: bench, ms: 60000 });
  assert.equal(rooms.code, 0, `${rooms.stdout}\n${rooms.stderr}`);
  const rr = JSON.parse(rooms.stdout);
  assert.equal(rr.connections, 30);
  assert.equal(rr.delivered, rr.expected);
  assert.equal(rr.expected, rr.sent * 10);
  const storm = await run(['storm', '--url', server.http, '--admin-key-file', adminFile, '--secret-file', secretFile,
    '--connections', '200', '--source-ips', '127.0.0.2-127.0.0.5', '--procs', '2', '--quiet'], { bin: bench, ms: 60000 });
  assert.equal(storm.code, 0, `${storm.stdout}\n${storm.stderr}`);
  const sr = JSON.parse(storm.stdout);
  assert.equal(sr.delivered, 200);
  assert.ok(sr.joins_per_s > 0);
  const idle = await run(['idle', '--url', server.http, '--admin-key-file', adminFile, '--secret-file', secretFile,
    '--connections', '200', '--hold', '1', '--server-pid', String(server.proc.pid), '--quiet'], { bin: bench, ms: 60000 });
  assert.equal(idle.code, 0, `${idle.stdout}\n${idle.stderr}`);
  const ir = JSON.parse(idle.stdout);
  assert.equal(ir.delivered, 200);
  assert.equal(typeof ir.rss_per_connection_kib, 'number');
  // A wrong secret: every join is refused, exit 1 with the errors counted.
  const wrong = path.join(server.dir, 'wrong-secret');
  fs.writeFileSync(wrong, 'a-secret-that-is-not-the-servers', { mode: 0o600 });
  const refused = await run(['storm', '--url', server.http, '--admin-key-file', adminFile, '--secret-file', wrong,
    '--connections', '5', '--quiet'], { bin: bench, ms: 60000 });
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).errors, 5);
});

test('TLS: room list over https and watch over wss with --ca-file or --insecure', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-cli-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  } catch {
    t.skip('openssl is not installed');
    return;
  }
  const ca = path.join(dir, 'cert.pem');
  const tls = await startServer({ args: ['--tls-cert', ca, '--tls-key', path.join(dir, 'key.pem')] });
  try {
    const key = path.join(tls.dir, 'admin-key');
    const untrusted = await run(['room', 'list', '--api', tls.http, '--admin-key-file', key]);
    assert.equal(untrusted.code, 3, untrusted.stderr);
    assert.match(untrusted.stderr, /certificate/);
    const trusted = await run(['room', 'list', '--api', tls.http, '--admin-key-file', key, '--ca-file', ca]);
    assert.equal(trusted.code, 0, trusted.stderr);
    const created = await run(['room', 'create', '--api', tls.http, '--admin-key-file', key, '--insecure',
      '--id', 'tls-room', '--title', 'Over TLS']);
    assert.equal(created.code, 0, created.stderr);
    const url = `${tls.http}/#t=${tls.token(claims('tls-room', 'moderator', 'chair'))}`;
    assert.match(url, /^https:/);
    const j = await run(['join', url, '--ca-file', ca], { input: '/announce secure\n' });
    assert.equal(j.code, 0, `${j.stdout}\n${j.stderr}`);
    assert.match(j.stdout, /ANNOUNCEMENT from Name of chair: secure/);
    const k = await run(['join', url, '--insecure'], { input: '/announce again\n' });
    assert.equal(k.code, 0, `${k.stdout}\n${k.stderr}`);
    const refused = await run(['join', url]);
    assert.equal(refused.code, 3, refused.stderr);
  } finally {
    await tls.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('token --role interpreter (contract 9.4): offline and through the API; the token joins as an interpreter', async () => {
  const room = await newRoom(server);
  const off = await run(['token', '--secret-file', secretFile, '--room', room.id, '--sub', 'int-ar', '--name', 'Cabine AR', '--role', 'interpreter']);
  assert.equal(off.code, 0, off.stderr);
  assert.equal(decodeToken(off.stdout.trim()).role, 'interpreter');
  const { welcome, client } = await join(server, off.stdout.trim());
  assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
  assert.equal(welcome.you.role, 'interpreter');
  client.close();
  const api = await run(['token', ...admin(), '--room', room.id, '--sub', 'int-en', '--name', 'Cabine EN', '--role', 'interpreter']);
  assert.equal(api.code, 0, api.stderr);
  assert.equal(decodeToken(api.stdout.trim()).role, 'interpreter');
  const help = await run(['token', '--help']);
  assert.match(help.stdout, /interpreter/);
});

test('record --help and usage errors exit as documented', async () => {
  const h = await run(['record', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /rostrum record verify FILE/);
  assert.equal((await run(['record'])).code, 2);
  assert.equal((await run(['record', 'verify'])).code, 2);
  assert.equal((await run(['record', 'verify', 'a', 'b'])).code, 2);
  assert.equal((await run(['record', 'verify', '--nope', 'a'])).code, 2);
  const main = await run(['--help']);
  assert.match(main.stdout, /record +check a meeting record offline/);
});

test('watch: statements (size only until published), statement and conclusions lines (9.4, 9.5)', async () => {
  const room = await newRoom(server);
  const { c: chair } = await enter(server, room.id, 'moderator', 'chair', { name: 'Chair' });
  const { c: fr } = await enter(server, room.id, 'delegate', 'fr', { name: 'Delegate of France', delegation: 'France' });
  const w = start(['watch', invite(room.id, 'observer', 'press2', { name: 'Press' })]);
  await w.waitFor(/^joined /m);
  const r = await act(fr, { type: 'request_floor' });
  const rid = r.events.find((e) => e.seq === r.reply.seq).data.request.id;
  await act(fr, { type: 'deposit_statement', request_id: rid, text: 'CLI-EMBARGO text of France' });
  await w.waitFor(/handed in a written statement \(26 characters\) for r\d+$/m);
  assert.ok(!w.stdout.includes('CLI-EMBARGO'), w.stdout);
  await act(chair, { type: 'grant' });
  await act(fr, { type: 'yield' });
  await w.waitFor(/STATEMENT of Delegate of France \(France\) \(as delivered\): CLI-EMBARGO text of France$/m);
  await act(chair, { type: 'publish_conclusions', text: 'We conclude.' });
  await w.waitFor(/CONCLUSIONS by Chair \(record fingerprint [0-9a-f]{16}\): We conclude\.$/m);
  w.p.kill('SIGINT');
  assert.equal((await w.exited).code, 0);
  chair.close();
  fr.close();
});
