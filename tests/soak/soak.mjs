// Soak: a mixed load on three nodes and one Redis for a given time, with
// faults, then checks that every client saw every event of its room once
// and in order, and that server memory stayed bounded.
//   node tests/soak/soak.mjs --minutes 30 [--rooms 3] [--json FILE]
// Load: per room a chair, 6 delegates and 12 observers spread over the
// nodes; chat, requests, grants, yields, ends; observers leaving and coming
// back (resuming with since+epoch); every 60 s a node is killed with
// SIGKILL and started again; every 90 s Redis is killed and restarted
// (append-only file, fsync always). All traffic stays on 127.0.0.1.
import fs from 'node:fs';
import { startCluster, waitHealth, sleep } from '../cluster/lib.mjs';
import { Client, mintToken } from '../lib/harness.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };
const minutes = Number(arg('--minutes', '5'));
const ROOMS = Number(arg('--rooms', '3'));
const jsonOut = arg('--json', null);
const rnd = (n) => Math.floor(Math.random() * n);
const pick = (a) => a[rnd(a.length)];
const problems = [];
const stats = { commands: 0, acks: 0, refusals: {}, reconnects: 0, welcomes: 0, nodeKills: 0, redisRestarts: 0 };

const cl = await startCluster(3);
process.on('exit', () => { try { cl.stop(); } catch { /* gone */ } });

class Member {
  constructor(room, sub, role) {
    Object.assign(this, { room, sub, role, seqs: [], last: null, epoch: null, client: null, alive: true, seq2: new Set() });
  }

  connect() {
    if (!this.alive) return;
    const node = pick(cl.nodes);
    const c = new Client(node.ws);
    this.client = c;
    c.opened.then(() => {
      const join = { type: 'join', token: mintToken(cl.secret, { sub: this.sub, name: this.sub, room: this.room, role: this.role }) };
      if (this.last !== null) Object.assign(join, { since: this.last, epoch: this.epoch });
      c.send(join);
    }, () => {});
    c.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
    c.ws.on('close', () => {
      if (this.client !== c || !this.alive) return;
      stats.reconnects++;
      setTimeout(() => this.connect(), 200 + rnd(800));
    });
  }

  see(seq, what) {
    if (this.last !== null && seq !== this.last + 1) problems.push(`${this.sub}@${this.room}: ${what} seq ${seq} after ${this.last}`);
    if (this.seq2.has(seq)) problems.push(`${this.sub}@${this.room}: seq ${seq} seen twice`);
    this.seq2.add(seq);
    this.last = seq;
  }

  onMessage(m) {
    if (m.type === 'welcome') {
      stats.welcomes++;
      if (this.last !== null) {
        if (m.epoch !== this.epoch) problems.push(`${this.sub}@${this.room}: epoch changed ${this.epoch} -> ${m.epoch}`);
        else if (!m.resumed) problems.push(`${this.sub}@${this.room}: not resumed from ${this.last} (room at ${m.seq})`);
        for (const e of m.events) this.see(e.seq, 'resumed');
        if (this.last !== m.seq) problems.push(`${this.sub}@${this.room}: welcome at ${m.seq}, resumed to ${this.last}`);
      } else {
        this.last = m.seq;
      }
      this.epoch = m.epoch;
    } else if (m.type === 'event') {
      this.see(m.seq, 'live');
    } else if (m.type === 'ack') {
      stats.acks++;
    } else if (m.type === 'error') {
      stats.refusals[m.code] = (stats.refusals[m.code] || 0) + 1;
    }
  }

  send(cmd) {
    if (this.client && this.client.ws.readyState === 1) {
      stats.commands++;
      this.client.send({ ...cmd, id: `c${stats.commands}` });
    }
  }
}

const rooms = [];
for (let r = 0; r < ROOMS; r++) {
  const id = `soak-${r}`;
  const res = await cl.nodes[r % 3].api('POST', '/api/rooms', { id, title: `Soak room ${r}`, settings: { speech_s: 20, chat: 'open' } });
  if (res.status !== 201) throw new Error(`create ${id}: ${res.status} ${res.text}`);
  const chair = new Member(id, `chair-${r}`, 'moderator');
  const delegates = Array.from({ length: 6 }, (_, i) => new Member(id, `del-${r}-${i}`, 'delegate'));
  const observers = Array.from({ length: 12 }, (_, i) => new Member(id, `obs-${r}-${i}`, 'observer'));
  rooms.push({ id, chair, delegates, observers, all: [chair, ...delegates, ...observers] });
}
for (const room of rooms) for (const m of room.all) m.connect();
await sleep(2000);

const rss = (node) => { try { return Number(fs.readFileSync(`/proc/${node.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]); } catch { return null; } };
const start = Date.now();
const end = start + minutes * 60000;
let nextKill = start + 60000;
let nextRedis = start + 90000;
let rssWarm = null;
const rssSeries = [];

while (Date.now() < end) {
  const room = pick(rooms);
  const x = Math.random();
  if (x < 0.45) pick(room.delegates).send({ type: 'say', text: `soak ${Date.now()}` });
  else if (x < 0.6) pick(room.delegates).send({ type: 'request_floor', kind: pick(['speech', 'speech', 'reply', 'point_of_order']) });
  else if (x < 0.7) room.chair.send({ type: 'grant' });
  else if (x < 0.78) for (const d of room.delegates) d.send({ type: 'yield' });
  else if (x < 0.82) room.chair.send({ type: 'end_floor' });
  else if (x < 0.86) room.chair.send({ type: 'announce', text: 'announcement' });
  else if (x < 0.92) { const o = pick(room.observers); if (o.client) o.client.close(); }
  if (Date.now() >= nextKill) {
    nextKill += 60000;
    const i = rnd(3);
    stats.nodeKills++;
    await cl.kill9(cl.nodes[i]);
    await sleep(2000);
    await cl.restart(cl.nodes[i]);
  }
  if (Date.now() >= nextRedis) {
    nextRedis += 90000;
    stats.redisRestarts++;
    await cl.redis.kill();
    await sleep(1000);
    await cl.redis.start();
    for (const n of cl.nodes) await waitHealth(n, 200, 30000);
  }
  if (rssWarm === null && Date.now() - start > 30000) rssWarm = cl.nodes.map(rss);
  if (rssSeries.length === 0 || Date.now() - rssSeries.at(-1).t > 30000) rssSeries.push({ t: Date.now(), kib: cl.nodes.map(rss) });
  await sleep(20);
}

// Quiet: every client must reach its room's final seq.
await sleep(3000);
for (const room of rooms) {
  const final = (await cl.nodes[0].api('GET', `/api/rooms/${room.id}`)).json.seq;
  const deadline = Date.now() + 20000;
  for (const m of room.all) {
    while (m.last !== final && Date.now() < deadline) await sleep(100);
    if (m.last !== final) problems.push(`${m.sub}@${room.id}: at seq ${m.last}, room at ${final}`);
  }
  room.final = final;
}
const events = rooms.reduce((a, r) => a + r.final, 0);
const rssEnd = cl.nodes.map(rss);
// Every node keeps each held room's history (about 1 KiB an event here):
// growth beyond that plus 32 MiB of slack is a leak.
const allowance = events * 1.5 + 32 * 1024;
rssEnd.forEach((kib, i) => {
  const base = rssWarm ? rssWarm[i] : null;
  if (base !== null && kib !== null && kib - base > allowance) problems.push(`node ${i + 1}: RSS grew ${kib - base} KiB (> ${Math.round(allowance)} KiB allowed)`);
});
for (const room of rooms) for (const m of room.all) m.alive = false;
for (const room of rooms) for (const m of room.all) m.client?.close();

const summary = { minutes, rooms: ROOMS, clients: rooms.reduce((a, r) => a + r.all.length, 0), events, ...stats, rssWarmKiB: rssWarm, rssEndKiB: rssEnd, rssSeries, problems: problems.slice(0, 50), problemCount: problems.length };
console.log(JSON.stringify(summary));
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2));
console.log(problems.length ? `soak: ${problems.length} problems` : `soak: ok, ${events} events, every client saw every event once and in order`);
await cl.stop();
process.exit(problems.length ? 1 : 0);
