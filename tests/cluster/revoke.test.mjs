// Token revocation across nodes (contract section 11): revoked through one
// node's admin API, the token's connections on another node are closed with
// 4401 and every node refuses it at join; a node started afterwards knows it
// too (it is in the room's history in Redis).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom } from '../lib/harness.mjs';
import { withLogs, startCluster, startNode, enter, waitSeq } from './lib.mjs';
import { join } from '../lib/harness.mjs';

let cl;
before(async () => { cl = await startCluster(2); });
after(async () => { await cl?.stop(); });

test('revoked on n1: closed on n2 with 4401, refused on n1, n2 and a node started later', withLogs(() => cl, async () => {
  const [n1, n2] = cl.nodes;
  const room = await newRoom(n1);
  const tok = (await n1.api('POST', `/api/rooms/${room.id}/tokens`, { sub: 'fr', name: 'France', role: 'delegate' })).json;
  const other = (await n1.api('POST', `/api/rooms/${room.id}/tokens`, { sub: 'de', name: 'Germany', role: 'delegate' })).json;
  const a = await join(n2, tok.token);
  const b = await join(n2, other.token);
  assert.equal(a.welcome.type, 'welcome');
  const watcher = await enter(n1, room.id, 'observer', 'obs');
  const r = await n1.api('POST', `/api/rooms/${room.id}/revocations`, { jti: tok.jti });
  assert.equal(r.status, 201, r.text);
  // n1 has no connection with that token: no expiry known there, 30 days.
  assert.ok(r.json.until > Date.now() / 1000 + 29 * 86400);
  assert.equal((await a.client.waitClose(10000)).code, 4401);
  const ev = await watcher.c.waitFor((m) => m.type === 'event' && m.name === 'token_revoked');
  assert.deepEqual(ev.data, {});
  await waitSeq(b.client, ev.seq);
  assert.equal(b.client.closed, null, 'another token stays');
  for (const n of [n1, n2]) {
    const j = await join(n, tok.token);
    assert.equal(j.welcome.code, 'unauthorized', n.id);
    assert.equal((await j.client.waitClose()).code, 4401, n.id);
    const list = await n.api('GET', `/api/rooms/${room.id}/revocations`);
    assert.deepEqual(list.json.map((e) => e.jti), [tok.jti], n.id);
  }
  const n3 = await startNode(cl.redis, { secret: cl.secret, adminKey: cl.adminKey, id: 'n3' });
  cl.nodes.push(n3);
  const j3 = await join(n3, tok.token);
  assert.equal(j3.welcome.code, 'unauthorized');
  assert.ok(!JSON.stringify(watcher.c.log).includes(tok.jti));
}));
