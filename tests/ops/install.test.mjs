// `meson install` as an operator runs it (docs/operations.md, "Install as a
// service"), into a --destdir: the programs, the web client, the man pages
// and the systemd unit are where the prefix says; the installed server
// finds and serves its installed web client; the man pages name every flag
// of --help and no other; the unit passes `systemd-analyze verify` (no
// running systemd needed) with a low exposure score; the example
// environment file starts a node whose admin API answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopChecked, root, serverBin, sleep } from '../lib/harness.mjs';

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
// The build directory of the server under test (build/ or build-san/).
const buildDir = path.dirname(path.dirname(serverBin));
const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-install-'));
let opt; // meson's install options: prefix, bindir, datadir, mandir
const at = (...p) => path.join(dest, opt.prefix, ...p);

before(() => {
  assert.ok(fs.existsSync(path.join(buildDir, 'meson-info')), `${buildDir} is not a meson build directory`);
  const r = spawnSync('meson', ['install', '-C', buildDir, '--destdir', dest, '--no-rebuild', '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `meson install failed:\n${r.stdout}${r.stderr}`);
  const opts = JSON.parse(execFileSync('meson', ['introspect', buildDir, '--buildoptions'], { encoding: 'utf8' }));
  opt = Object.fromEntries(opts.filter((o) => ['prefix', 'bindir', 'datadir', 'mandir'].includes(o.name)).map((o) => [o.name, o.value]));
});

// Every file under dir, relative to it.
const walk = (dir, rel = '') => fs.readdirSync(path.join(dir, rel), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));

test('meson install puts the programs, the web client, the man pages and the unit under the prefix', () => {
  for (const exe of ['rostrum-server', 'rostrum', 'rostrum-bench']) {
    const f = at(opt.bindir, exe);
    assert.ok(fs.statSync(f).mode & 0o111, `${f} is not executable`);
  }
  assert.match(execFileSync(at(opt.bindir, 'rostrum-server'), ['--version'], { encoding: 'utf8' }), /^rostrum-server \d+\.\d+\.\d+ \(protocol rostrum\.v1\)/);
  assert.match(execFileSync(at(opt.bindir, 'rostrum'), ['--version'], { encoding: 'utf8' }), /^rostrum \d+\.\d+\.\d+/);
  assert.match(execFileSync(at(opt.bindir, 'rostrum-bench'), ['--help'], { encoding: 'utf8' }), /plenary/);
  // The web client: every file of clients/web, byte for byte.
  const web = path.join(root, 'clients', 'web');
  const files = walk(web);
  assert.ok(files.includes('index.html') && files.includes(path.join('js', 'app.js')));
  for (const f of files) assert.ok(fs.readFileSync(at(opt.datadir, 'rostrum', 'web', f)).equals(fs.readFileSync(path.join(web, f))), `${f} differs`);
  assert.ok(fs.statSync(at(opt.mandir, 'man8', 'rostrum-server.8')).size > 1000);
  assert.ok(fs.statSync(at(opt.mandir, 'man1', 'rostrum.1')).size > 1000);
  // The unit names the installed server; otherwise it is deploy/rostrum.service.
  const unit = fs.readFileSync(at('lib', 'systemd', 'system', 'rostrum.service'), 'utf8');
  const exec = path.join(opt.prefix, opt.bindir, 'rostrum-server');
  assert.ok(unit.split('\n').includes(`ExecStart=${exec} $ROSTRUM_ARGS`), unit);
  const src = fs.readFileSync(path.join(root, 'deploy', 'rostrum.service'), 'utf8');
  assert.equal(unit, src.replace('/usr/local/bin/rostrum-server', exec));
  for (const f of ['rostrum.env', 'nginx.conf']) assert.ok(fs.existsSync(at(opt.datadir, 'doc', 'rostrum', 'examples', f)), f);
});

test('the installed server serves the installed web client', async () => {
  // Started from another directory: it finds the files next to itself
  // (not the source tree, whose absolute path it also knows).
  const s = await startServer({ bin: at(opt.bindir, 'rostrum-server'), noRedis: true, dataDir: false });
  after(() => s.stop('SIGKILL'));
  const installed = at(opt.datadir, 'rostrum', 'web');
  // (logged on standard error right after "listening" on standard output)
  for (let i = 0; i < 50 && !s.log.includes('web root'); i++) await sleep(20);
  assert.ok(s.log.includes(`web root ${fs.realpathSync(installed)}\n`), s.log);
  for (const [url, file] of [['/', 'index.html'], ['/js/app.js', 'js/app.js'], ['/css/rostrum.css', 'css/rostrum.css']]) {
    const res = await fetch(s.http + url);
    assert.equal(res.status, 200, url);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(path.join(installed, file))), url);
    assert.match(res.headers.get('content-security-policy'), /default-src 'self'/);
  }
  await stopChecked(s);
});

// The long options a --help text names.
const flags = (text) => new Set([...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
// Those a man page names (troff writes - as \-).
const manFlags = (page) => flags(page.replaceAll('\\-', '-').replace(/\\f[BIRP]/g, ''));

test('the man pages name every option of --help, and only those', () => {
  const bin = (exe) => at(opt.bindir, exe);
  const help = (exe, ...args) => spawnSync(bin(exe), [...args, '--help'], { encoding: 'utf8' }).stdout;
  const server = flags(help('rostrum-server'));
  assert.ok(server.has('trusted-proxy') && server.has('listen') && server.size > 25);
  const page8 = fs.readFileSync(at(opt.mandir, 'man8', 'rostrum-server.8'), 'utf8');
  // (a new flag: describe it in docs/man/rostrum-server.8 too)
  assert.deepEqual([...server].filter((f) => !manFlags(page8).has(f)), [], 'in --help, not in rostrum-server(8)');
  assert.deepEqual([...manFlags(page8)].filter((f) => !server.has(f)), [], 'in rostrum-server(8), not in --help');

  const cli = new Set();
  for (const args of [[], ['token'], ['token', 'revoke'], ['room'], ['room', 'create'], ['room', 'list'], ['room', 'show'], ['room', 'close'], ['room', 'transcript'], ['watch'], ['join'], ['record'], ['record', 'verify']]) {
    for (const f of flags(help('rostrum', ...args))) cli.add(f);
  }
  assert.ok(cli.has('secret-file') && cli.has('linger') && cli.has('queue-order'));
  const page1 = fs.readFileSync(at(opt.mandir, 'man1', 'rostrum.1'), 'utf8');
  // (a new option: describe it in docs/man/rostrum.1 too)
  assert.deepEqual([...cli].filter((f) => !manFlags(page1).has(f)), [], 'in rostrum --help, not in rostrum(1)');
  assert.deepEqual([...manFlags(page1)].filter((f) => !cli.has(f)), [], 'in rostrum(1), not in rostrum --help');

  if (have('groff')) {
    for (const page of [at(opt.mandir, 'man8', 'rostrum-server.8'), at(opt.mandir, 'man1', 'rostrum.1')]) {
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', `groff warns about ${page}`);
    }
  }
});

test('rostrum.service passes systemd-analyze verify and security', { skip: !have('systemd-analyze') && 'systemd-analyze is not installed' }, () => {
  // verify checks that ExecStart's program exists and that the
  // Documentation= man page opens: point both at the --destdir install.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-unit-'));
  const unit = path.join(dir, 'rostrum.service');
  const exec = path.join(opt.prefix, opt.bindir, 'rostrum-server');
  fs.writeFileSync(unit, fs.readFileSync(at('lib', 'systemd', 'system', 'rostrum.service'), 'utf8').replace(exec, at(opt.bindir, 'rostrum-server')));
  const env = { ...process.env, MANPATH: at(opt.mandir), SYSTEMD_LOG_COLOR: '0' };
  const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', env });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stderr + v.stdout, '', 'systemd-analyze verify has something to say');
  // A broken unit does fail: the check can catch what it is for.
  fs.writeFileSync(unit, fs.readFileSync(unit, 'utf8').replace('ProtectSystem=strict', 'ProtectSystm=strict'));
  const bad = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', env });
  assert.match(bad.stderr, /Unknown key 'ProtectSystm'/);
  fs.writeFileSync(unit, fs.readFileSync(unit, 'utf8').replace('ProtectSystm=strict', 'ProtectSystem=strict'));
  // The hardening, as systemd scores it: 0 (locked down) to 10 (exposed).
  const sec = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8', env });
  const level = Number((sec.stdout.match(/Overall exposure level for rostrum\.service: ([\d.]+)/) || [])[1]);
  assert.ok(level <= 2, `exposure ${level}:\n${sec.stdout}${sec.stderr}`);
});

test('the example environment file starts a node: secret files, listen address, admin API', async () => {
  // deploy/rostrum.env as the service reads it (KEY=VALUE lines), with the
  // secret files in a temporary directory and a free port.
  const envText = fs.readFileSync(at(opt.datadir, 'doc', 'rostrum', 'examples', 'rostrum.env'), 'utf8');
  const env = Object.fromEntries(envText.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.deepEqual(Object.keys(env).sort(), ['ROSTRUM_ADMIN_KEY_FILE', 'ROSTRUM_ARGS', 'ROSTRUM_LISTEN', 'ROSTRUM_SECRET_FILE']);
  // Every variable it names, set or commented out, is one the server reads.
  const serverHelp = execFileSync(at(opt.bindir, 'rostrum-server'), ['--help'], { encoding: 'utf8' });
  for (const name of new Set(envText.match(/\bROSTRUM_[A-Z_]+(?==)/g))) {
    if (name !== 'ROSTRUM_ARGS') assert.ok(serverHelp.includes(name), `${name} is not in rostrum-server --help`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rostrum-env-'));
  const secret = path.join(dir, 'secret');
  const adminKey = path.join(dir, 'admin-key');
  fs.writeFileSync(secret, 'an-env-file-secret-0123456789\n', { mode: 0o640 });
  fs.writeFileSync(adminKey, 'an-env-file-admin-key-0123\n', { mode: 0o640 });
  const s = await startServer({
    bin: at(opt.bindir, 'rostrum-server'), noRedis: true, dataDir: false, secretFile: false, adminKeyFile: false,
    args: env.ROSTRUM_ARGS.split(' '),
    env: { ...env, ROSTRUM_SECRET_FILE: secret, ROSTRUM_ADMIN_KEY_FILE: adminKey, ROSTRUM_DATA_DIR: path.join(dir, 'data') },
  });
  after(() => s.stop('SIGKILL'));
  assert.doesNotMatch(s.log, /random secret/);
  const rooms = await fetch(`${s.http}/api/rooms`, { headers: { authorization: 'Bearer an-env-file-admin-key-0123' } });
  assert.equal(rooms.status, 200);
  await stopChecked(s);
});
