// Durable embedded mode (--data-dir): a crash loses nothing acknowledged, and
// a corrupt or truncated journal tail is reported and cut at the last good
// record, never silently accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, createRoom, join, command, redisMode, stopChecked } from '../lib/harness.mjs';

const opts = { skip: redisMode && 'the journal is the embedded backend\'s' };

async function meetingWithEvents(server, n) {
  await createRoom(server, { id: 'durable', title: 'Durable', settings: { chat: 'open' } });
  const { client } = await join(server, { sub: 'fr', name: 'France', room: 'durable', role: 'delegate' });
  let seq = 0;
  for (let i = 0; i < n; i++) seq = (await command(client, { type: 'say', text: `message ${i}` })).seq;
  const r = await command(client, { type: 'request_floor', lang: 'fr' });
  client.close();
  return r.seq;
}

const journalOf = (server) => path.join(server.dir, 'data', 'rooms', 'durable.journal');
const restart = (server) => startServer({ dir: server.dir, secret: server.secret, adminKey: server.adminKey });

test('kill -9 loses nothing that was acknowledged', opts, async () => {
  const s1 = await startServer({});
  const seq = await meetingWithEvents(s1, 20);
  await s1.stop('SIGKILL');
  const s2 = await restart(s1);
  const room = (await s2.api('GET', '/api/rooms/durable')).json;
  assert.equal(room.seq, seq);
  assert.equal(room.queue.length, 1);
  assert.equal(room.queue[0].lang, 'fr');
  const record = (await s2.api('GET', '/api/rooms/durable/transcript?format=json')).json;
  assert.equal(record.events.length, seq);
  await stopChecked(s2);
});

test('a truncated last line is reported and cut; the room goes on from there', opts, async () => {
  const s1 = await startServer({});
  const seq = await meetingWithEvents(s1, 5);
  await stopChecked(s1);
  const file = journalOf(s1);
  const good = fs.statSync(file).size;
  fs.appendFileSync(file, '1234abcd {"r":"event","event":{"type":"event","seq":'); // a write cut short
  const s2 = await restart(s1);
  assert.match(s2.log, /durable\.journal: bad record at line \d+ \(truncated line \(no newline\)\); cutting the tail/);
  assert.equal(fs.statSync(file).size, good, 'the tail was cut at the last good record');
  const { client, welcome } = await join(s2, { sub: 'de', name: 'Germany', room: 'durable', role: 'delegate' });
  assert.equal(welcome.seq, seq);
  assert.equal((await command(client, { type: 'say', text: 'after the cut' })).seq, seq + 1);
  client.close();
  await stopChecked(s2);
});

test('a record that fails its checksum ends the replay there, reported', opts, async () => {
  const s1 = await startServer({});
  const seq = await meetingWithEvents(s1, 5);
  await stopChecked(s1);
  const file = journalOf(s1);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  // Flip a character inside the last event record (the request): its CRC no
  // longer matches. (Directory records, with the attendance the drain
  // writes, may follow it.)
  const last = lines.findLastIndex((l) => l.includes('"r":"event"'));
  lines[last] = lines[last].replace('"lang":"fr"', '"lang":"de"');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const s2 = await restart(s1);
  assert.match(s2.log, /bad record at line \d+ \(checksum mismatch\); cutting the tail/);
  const room = (await s2.api('GET', '/api/rooms/durable')).json;
  assert.equal(room.seq, seq - 1, 'the corrupt request is not replayed');
  assert.equal(room.queue.length, 0);
  await stopChecked(s2);
});

test('a record that does not apply (a seq out of order) is refused like corruption', opts, async () => {
  const s1 = await startServer({});
  const seq = await meetingWithEvents(s1, 3);
  await stopChecked(s1);
  const file = journalOf(s1);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const events = lines.filter((l) => l.includes('"r":"event"'));
  lines.push(events[events.length - 2]); // a duplicate of an earlier event, well formed
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const s2 = await restart(s1);
  assert.match(s2.log, /bad record at line \d+ \(event does not apply/);
  assert.equal((await s2.api('GET', '/api/rooms/durable')).json.seq, seq);
  await stopChecked(s2);
});
