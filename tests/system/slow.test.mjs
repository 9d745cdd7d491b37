// Slow consumers (architecture "Slow and bad clients"): a client that stops
// reading while the room is flooded is cut at its send-queue bound (counted
// in /metrics) and never delays the others, who get every message, in order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createRoom, join, stopChecked, sleep } from '../lib/harness.mjs';

const DELEGATES = 20;
const OBSERVERS = 10;

test('a client that never reads is cut at its bound; the room goes on', async () => {
  const server = await startServer({ dataDir: false, args: ['--send-queue-bytes', '1048576'] });
  after(() => server.stop('SIGKILL'));
  await createRoom(server, { id: 'plenary', title: 'Plenary', settings: { chat: 'open' } });
  const claims = (sub, role) => ({ sub, name: sub, room: 'plenary', role });
  const metric = async (re) => Number(((await server.api('GET', '/metrics')).text.match(re) || [0, 0])[1]);

  const slow = await join(server, claims('slow-observer', 'observer'));
  slow.client.ws._socket.pause(); // stops reading: its buffers fill, then the server's queue

  const observers = [];
  for (let i = 0; i < OBSERVERS; i++) observers.push((await join(server, claims(`obs-${i}`, 'observer'))).client);
  const delegates = [];
  for (let i = 0; i < DELEGATES; i++) delegates.push((await join(server, claims(`del-${i}`, 'delegate'))).client);

  // Flood at 15 messages a second per delegate (under the rate limit),
  // ~0.6 MB/s in all, until the slow one is cut.
  const text = 'x'.repeat(1900);
  let sent = 0;
  const deadline = Date.now() + 30000;
  while ((await metric(/^rostrum_send_queue_drops_total (\d+)/m)) === 0) {
    assert.ok(Date.now() < deadline, 'the slow client was never cut');
    for (const d of delegates) {
      d.send({ type: 'say', text });
      sent++;
    }
    await sleep(66);
  }
  const cutAfter = sent;

  // Every reading observer gets every message, in order, none lost.
  await Promise.all(observers.map(async (o) => {
    let last = null;
    for (let n = 0; n < sent; n++) {
      const ev = await o.next((m) => m.type === 'event' && m.name === 'message', 20000);
      if (last !== null) assert.equal(ev.seq, last + 1);
      last = ev.seq;
    }
  }));
  assert.equal(await metric(/^rostrum_send_queue_drops_total (\d+)/m), 1, 'exactly the slow connection was cut');
  assert.equal(await metric(/^rostrum_closes_total\{code="1008"\} (\d+)/m), 1);
  // It is gone from the room although it never read (killed after 5 s).
  slow.client.ws._socket.resume();
  const closed = await slow.client.waitClose(10000);
  assert.ok([1008, 1006].includes(closed.code), `slow client closed with ${closed.code}`);
  assert.ok(cutAfter * 1900 < 64 * 1024 * 1024, 'cut long before its messages could fill memory');
  for (const c of [...observers, ...delegates]) c.close();
  await stopChecked(server);
});
