// Contract section 3: joining, tokens, the welcome, presence and resume.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  startServer, newRoom, enter, act, claims, mintToken, firstFrameClose, join, sleep,
  stopChecked,
} from '../lib/harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// region: contract 9.3 (null without one)
const PARTICIPANT_KEYS = ['sub', 'name', 'role', 'delegation', 'category', 'region', 'online', 'connections', 'muted'].sort();
// schedule and agenda_item_started_at: contract 9.1
const SNAPSHOT_KEYS = ['id', 'title', 'status', 'agenda', 'agenda_item', 'agenda_item_started_at', 'settings', 'queue', 'floor', 'muted', 'stats', 'schedule'];
const SETTINGS_KEYS = ['speech_s', 'reply_s', 'point_of_order_s', 'on_time_up', 'chat', 'list_open', 'queue_order',
  'replies_per_item', 'pause_on_disconnect', 'changeover_s'].sort();

function checkParticipant(p) {
  assert.deepEqual(Object.keys(p).sort(), PARTICIPANT_KEYS, JSON.stringify(p));
  assert.equal(typeof p.online, 'boolean');
  assert.equal(typeof p.connections, 'number');
  assert.equal(typeof p.muted, 'boolean');
}

// Seqs of a welcome's events are consecutive and end at the welcome's seq.
function checkWelcomeEvents(w) {
  const seqs = w.events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `welcome events ${seqs}`);
  if (seqs.length) assert.equal(seqs.at(-1), w.seq, `welcome events ${seqs} do not end at seq ${w.seq}`);
  if (w.resumed === false) assert.ok(w.events.length <= 50, `${w.events.length} events in a welcome that did not resume`);
}

// Joins with token (string) and expects an unauthorized error, then close 4401.
async function expectUnauthorized(token, what, { errorRequired = true } = {}) {
  const { close, messages } = await firstFrameClose(server, { type: 'join', token });
  assert.equal(close.code, 4401, `${what}: close ${close.code}`);
  assert.ok(!messages.some((m) => m.type === 'welcome'), `${what}: welcomed`);
  if (!errorRequired && !messages.some((m) => m.type === 'error')) return;
  const err = messages.find((m) => m.type === 'error');
  assert.ok(err, `${what}: no error before the close: ${JSON.stringify(messages)}`);
  assert.equal(err.code, 'unauthorized', `${what}: ${JSON.stringify(err)}`);
  assert.ok(!messages.some((m) => m.type === 'welcome'), `${what}: welcomed`);
}

test('welcome: shape, you, room snapshot, participants, observers, events', async () => {
  const room = await newRoom(server);
  const { c: mc, w: mw } = await enter(server, room.id, 'moderator', 'w-m1', { name: 'Chair', delegation: 'Bureau' });
  await act(mc, { type: 'announce', text: 'welcome all' });
  const o = await enter(server, room.id, 'observer', 'w-o1');
  const { c, w } = await enter(server, room.id, 'delegate', 'w-d1',
    { name: 'Délégué de la France', delegation: 'France', category: 'member_state' });
  assert.equal(w.type, 'welcome');
  assert.equal(typeof w.seq, 'number');
  assert.equal(w.seq, 1);
  assert.equal(typeof w.epoch, 'string');
  assert.ok(w.epoch.length > 0);
  assert.equal(w.epoch, mw.epoch);
  assert.equal(w.resumed, false);
  checkParticipant(w.you);
  assert.deepEqual(w.you, { sub: 'w-d1', name: 'Délégué de la France', role: 'delegate', delegation: 'France',
    category: 'member_state', region: null, online: true, connections: 1, muted: false });
  for (const k of SNAPSHOT_KEYS) assert.ok(k in w.room, `room lacks ${k}`);
  assert.equal(w.room.id, room.id);
  assert.equal(w.room.title, room.title);
  assert.equal(w.room.status, 'open');
  assert.deepEqual(w.room.agenda, room.agenda);
  assert.deepEqual(Object.keys(w.room.settings).sort(), SETTINGS_KEYS);
  assert.deepEqual(w.room.queue, []);
  assert.equal(w.room.floor, null);
  assert.deepEqual(w.room.muted, []);
  assert.equal(typeof w.room.stats, 'object');
  assert.ok(Array.isArray(w.participants));
  for (const p of w.participants) checkParticipant(p);
  assert.deepEqual(w.participants.map((p) => p.sub).sort(), ['w-d1', 'w-m1']);
  const chair = w.participants.find((p) => p.sub === 'w-m1');
  assert.equal(chair.role, 'moderator');
  assert.equal(chair.name, 'Chair');
  assert.equal(chair.delegation, 'Bureau');
  assert.equal(chair.category, null);
  assert.equal(chair.online, true);
  assert.equal(chair.connections, 1);
  assert.equal(w.observers, 1);
  assert.equal(w.events.length, 1);
  const ev = w.events[0];
  assert.equal(ev.type, 'event');
  assert.equal(ev.seq, 1);
  assert.equal(ev.name, 'message');
  assert.equal(ev.actor, 'w-m1');
  assert.equal(typeof ev.ts, 'number');
  assert.deepEqual(ev.data, { from: { sub: 'w-m1', name: 'Chair', delegation: 'Bureau', role: 'moderator' },
    text: 'welcome all', kind: 'announcement' });
  checkWelcomeEvents(w);
  // An observer's welcome: you with role observer; not listed itself.
  assert.equal(o.w.you.role, 'observer');
  assert.equal(o.w.you.sub, 'w-o1');
  assert.ok(!o.w.participants.some((p) => p.sub === 'w-o1'));
  for (const x of [mc, c, o.c]) x.close();
});

test('a fresh room welcomes at seq 0 with no events', async () => {
  const room = await newRoom(server);
  const { c, w } = await enter(server, room.id, 'delegate', 'f-d1');
  assert.equal(w.seq, 0);
  assert.deepEqual(w.events, []);
  assert.equal(w.resumed, false);
  c.close();
});

test('participants lists moderators and delegates once seen, online or not; observers only counted', async () => {
  const room = await newRoom(server);
  const d1 = await enter(server, room.id, 'delegate', 'p-d1');
  const o1 = await enter(server, room.id, 'observer', 'p-o1');
  const o2 = await enter(server, room.id, 'observer', 'p-o2');
  d1.c.close();
  await d1.c.waitClose();
  const m = await enter(server, room.id, 'moderator', 'p-m1');
  // The server may not have seen the close yet: wait until d1 is offline.
  let w = m.w;
  for (let i = 0; i < 50 && w.participants.find((p) => p.sub === 'p-d1')?.online; i++) {
    await sleep(50);
    const again = await enter(server, room.id, 'moderator', 'p-m1');
    w = again.w;
    again.c.close();
  }
  const d = w.participants.find((p) => p.sub === 'p-d1');
  assert.ok(d, `p-d1 (seen, now offline) is not listed: ${JSON.stringify(w.participants)}`);
  assert.equal(d.online, false);
  assert.equal(d.connections, 0);
  assert.ok(!w.participants.some((p) => p.role === 'observer' || p.sub.startsWith('p-o')));
  assert.equal(w.observers, 2);
  for (const x of [o1, o2, m]) x.c.close();
});

test('a participant with two connections is listed once with connections 2', async () => {
  const room = await newRoom(server);
  const a = await enter(server, room.id, 'delegate', 'two-d1');
  const b = await enter(server, room.id, 'delegate', 'two-d1');
  assert.equal(b.w.you.connections, 2);
  const listed = b.w.participants.filter((p) => p.sub === 'two-d1');
  assert.equal(listed.length, 1);
  assert.equal(listed[0].connections, 2);
  // Both connections receive the events of the room.
  await act(a.c, { type: 'say', text: 'from tab one' });
  await b.c.waitEvent('message', (e) => e.data.text === 'from tab one');
  a.c.close(); b.c.close();
});

test('bad tokens: error unauthorized and close 4401', async () => {
  const room = await newRoom(server);
  const base = claims(room.id, 'delegate', 'bad-d1');
  const now = Math.floor(Date.now() / 1000);
  const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  await expectUnauthorized(mintToken('another secret', base), 'bad signature');
  const good = server.token(base);
  const [h, p, s] = good.split('.');
  await expectUnauthorized(`${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`, 'tampered signature');
  await expectUnauthorized(`${h}.${b64u({ ...base, role: 'moderator', exp: now + 3600 })}.${s}`, 'tampered claims');
  await expectUnauthorized(`${h}.${p}.`, 'empty signature');
  await expectUnauthorized(mintToken(server.secret, base, { alg: 'none', sign: false }), 'alg none');
  await expectUnauthorized(`${b64u({ alg: 'none', typ: 'JWT' })}.${p}.${s}`, 'alg none with the HS256 signature');
  {
    const head = b64u({ alg: 'HS512', typ: 'JWT' });
    const body = b64u({ ...base, exp: now + 3600 });
    const sig = createHmac('sha512', server.secret).update(`${head}.${body}`).digest('base64url');
    await expectUnauthorized(`${head}.${body}.${sig}`, 'alg HS512');
  }
  {
    const head = b64u({ alg: 'HS384', typ: 'JWT' });
    const body = b64u({ ...base, exp: now + 3600 });
    const sig = createHmac('sha256', server.secret).update(`${head}.${body}`).digest('base64url');
    await expectUnauthorized(`${head}.${body}.${sig}`, 'alg HS384 with an HS256 signature');
  }
  await expectUnauthorized(server.token(base, { ttl: -120 }), 'expired beyond the leeway');
  for (const k of ['sub', 'name', 'room', 'role']) {
    const c = { ...base };
    delete c[k];
    await expectUnauthorized(server.token(c), `missing ${k}`);
  }
  {
    const head = b64u({ alg: 'HS256', typ: 'JWT' });
    const body = b64u(base);
    const sig = createHmac('sha256', server.secret).update(`${head}.${body}`).digest('base64url');
    await expectUnauthorized(`${head}.${body}.${sig}`, 'missing exp');
  }
  await expectUnauthorized(server.token({ ...base, role: 'admin' }), 'unknown role');
  await expectUnauthorized(server.token({ ...base, sub: 'has space' }), 'invalid sub');
  await expectUnauthorized(server.token({ ...base, sub: 's'.repeat(65) }), 'sub too long');
  await expectUnauthorized(server.token({ ...base, name: '' }), 'empty name');
  await expectUnauthorized(server.token({ ...base, name: 'n'.repeat(81) }), 'name of 81 chars');
  await expectUnauthorized(server.token({ ...base, room: 'Not_A_Room!' }), 'invalid room claim');
  await expectUnauthorized(server.token({ ...base, category: 'royalty' }), 'unknown category');
  await expectUnauthorized(server.token({ ...base, exp: 'tomorrow' }), 'exp not a number');
  await expectUnauthorized('not-a-jwt', 'garbage');
  await expectUnauthorized('a.b.c', 'three garbage parts');
  // An empty token is a malformed join: close 4401, an error optional.
  await expectUnauthorized('', 'empty token', { errorRequired: false });
});

test('token edge cases that are valid: leeway, 80-char name, every category', async () => {
  const room = await newRoom(server);
  const base = claims(room.id, 'delegate', 'ok-d1');
  let r = await join(server, server.token(base, { ttl: -10 }));
  assert.equal(r.welcome.type, 'welcome', `expired 10 s ago is within the 30 s leeway: ${JSON.stringify(r.welcome)}`);
  r.client.close();
  r = await join(server, server.token({ ...base, name: 'é'.repeat(80) }));
  assert.equal(r.welcome.type, 'welcome', 'a name of 80 characters (160 bytes)');
  assert.equal(r.welcome.you.name, 'é'.repeat(80));
  r.client.close();
  for (const category of ['member_state', 'observer_state', 'organization', 'un_entity', 'civil_society', 'other']) {
    r = await join(server, server.token({ ...base, sub: `cat-${category}`, category }));
    assert.equal(r.welcome.type, 'welcome', category);
    assert.equal(r.welcome.you.category, category);
    r.client.close();
  }
  r = await join(server, server.token({ ...base, sub: 'Ab.9_:@-x' }));
  assert.equal(r.welcome.type, 'welcome', 'sub with every allowed punctuation');
  r.client.close();
});

test('an unknown room closes with 4404', async () => {
  const { close, messages } = await firstFrameClose(server,
    { type: 'join', token: server.token(claims(`no-such-room-${process.pid}`, 'delegate', 'x')) });
  assert.equal(close.code, 4404);
  assert.ok(!messages.some((m) => m.type === 'welcome'));
});

test('a second join on a joined connection is refused and changes nothing', async () => {
  const room = await newRoom(server);
  const other = await newRoom(server);
  const { c } = await enter(server, room.id, 'delegate', 'j2-d1');
  const at = c.mark();
  c.send({ type: 'join', token: server.token(claims(other.id, 'moderator', 'j2-m1')) });
  await c.sync().catch(() => {});
  assert.ok(!c.since(at).some((m) => m.type === 'welcome'), 'welcomed twice');
  if (!c.closed) {
    const { reply } = await act(c, { type: 'announce', text: 'am I a moderator now?' });
    assert.equal(reply.code, 'forbidden');
  }
  c.close();
});

test('presence: join, update and leave of delegates; nothing for observers', async () => {
  const room = await newRoom(server);
  const { c: mc } = await enter(server, room.id, 'moderator', 'pr-m1');
  let at = mc.mark();
  const d1 = await enter(server, room.id, 'delegate', 'pr-d1', { delegation: 'Chile' });
  const pj = await mc.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'pr-d1', 5000, at);
  assert.equal(pj.action, 'join');
  checkParticipant(pj.participant);
  assert.equal(pj.participant.online, true);
  assert.equal(pj.participant.connections, 1);
  assert.equal(pj.participant.delegation, 'Chile');
  // A second tab: an update with two connections.
  at = mc.mark();
  const d1b = await enter(server, room.id, 'delegate', 'pr-d1', { delegation: 'Chile' });
  const pu = await mc.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'pr-d1', 5000, at);
  assert.ok(['update', 'join'].includes(pu.action), JSON.stringify(pu));
  assert.equal(pu.participant.connections, 2);
  // One tab closes: still online.
  at = mc.mark();
  d1b.c.close();
  const pu2 = await mc.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'pr-d1', 5000, at);
  assert.equal(pu2.action, 'update', JSON.stringify(pu2));
  assert.equal(pu2.participant.connections, 1);
  assert.equal(pu2.participant.online, true);
  // The last tab closes: leave.
  at = mc.mark();
  d1.c.close();
  const pl = await mc.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'pr-d1', 5000, at);
  assert.equal(pl.action, 'leave');
  assert.equal(pl.participant.online, false);
  assert.equal(pl.participant.connections, 0);
  // Presence is not sequenced.
  assert.equal(pl.seq, undefined);
  assert.deepEqual(mc.seqErrors, []);
  // An observer: no per-person presence, but the count, within about a second.
  at = mc.mark();
  const o = await enter(server, room.id, 'observer', 'pr-o1');
  const po = await mc.waitFor((m) => m.type === 'presence' && typeof m.observers === 'number', 3000, at);
  assert.equal(po.observers, 1);
  await mc.sync();
  assert.ok(!mc.since(at).some((m) => m.type === 'presence' && m.participant?.sub === 'pr-o1'), 'presence for an observer');
  at = mc.mark();
  o.c.close();
  const po2 = await mc.waitFor((m) => m.type === 'presence' && typeof m.observers === 'number', 3000, at);
  assert.equal(po2.observers, 0);
  mc.close();
});

test('presence: the observer count is sent at most once a second', async () => {
  const room = await newRoom(server);
  const { c: mc } = await enter(server, room.id, 'moderator', 'oc-m1');
  const at = mc.mark();
  const t0 = Date.now();
  const obs = [];
  for (let i = 0; i < 8; i++) obs.push(await enter(server, room.id, 'observer', `oc-o${i}`));
  await mc.waitFor((m) => m.type === 'presence' && m.observers === 8, 4000, at);
  const counts = mc.since(at).filter((m) => m.type === 'presence' && typeof m.observers === 'number');
  const elapsed = Date.now() - t0;
  assert.ok(counts.length <= Math.ceil(elapsed / 1000) + 1, `${counts.length} observer counts in ${elapsed} ms`);
  for (const o of obs) o.c.close();
  mc.close();
});

test('a moderator sees delegates\' presence; delegates see each other too', async () => {
  const room = await newRoom(server);
  const { c: d1 } = await enter(server, room.id, 'delegate', 'pp-d1');
  const at = d1.mark();
  const m = await enter(server, room.id, 'moderator', 'pp-m1');
  const p = await d1.waitFor((x) => x.type === 'presence' && x.participant?.sub === 'pp-m1', 5000, at);
  assert.equal(p.action, 'join');
  assert.equal(p.participant.role, 'moderator');
  d1.close(); m.c.close();
});

// Makes k message events in room, spread over connections so that no
// connection exceeds the rate limit; resolves with the seq of the last.
async function makeEvents(c1, c2, k, prefix) {
  let last = 0;
  for (let i = 0; i < k; i++) {
    const { reply } = await act(i % 2 ? c2 : c1, { type: 'say', text: `${prefix} ${i}` });
    assert.equal(reply.type, 'ack', JSON.stringify(reply));
    last = reply.seq;
    if (i % 30 === 29) await sleep(200);
  }
  return last;
}

test('resume: since and epoch give exactly the missed events, in order, equal to the live ones', async () => {
  const room = await newRoom(server);
  const { c: mc, w: mw } = await enter(server, room.id, 'moderator', 'rs-m1');
  const { c: dc } = await enter(server, room.id, 'delegate', 'rs-d1');
  await makeEvents(mc, dc, 3, 'before');
  await act(dc, { type: 'request_floor' });
  await act(mc, { type: 'grant' });
  await dc.sync();
  const since = dc.lastSeq;
  dc.close();
  await act(mc, { type: 'announce', text: 'while away' });
  await act(mc, { type: 'end_floor' });
  const d2 = await enter(server, room.id, 'delegate', 'rs-d2');
  await act(d2.c, { type: 'request_floor', kind: 'point_of_order' });
  await mc.sync();
  const seq = mc.lastSeq;
  const r = await enter(server, room.id, 'delegate', 'rs-d1', {}, { since, epoch: mw.epoch });
  assert.equal(r.w.resumed, true);
  assert.equal(r.w.seq, seq);
  const live = mc.log.filter((m) => m.type === 'event' && m.seq > since);
  // announce, floor_ended, floor_requested, and the timer_paused of rs-d1's
  // disconnect (pause_on_disconnect) somewhere before them.
  assert.ok(live.length >= 3);
  assert.deepEqual(r.w.events.map((e) => e.seq), live.map((e) => e.seq));
  assert.equal(live[0].seq, since + 1);
  assert.deepEqual(r.w.events, live, 'replayed events differ from the live ones');
  // Nothing missed: resuming at the current seq gives no events.
  const r2 = await enter(server, room.id, 'delegate', 'rs-d1', {}, { since: seq, epoch: mw.epoch });
  assert.equal(r2.w.resumed, true);
  assert.deepEqual(r2.w.events, []);
  // Live events continue from seq + 1.
  const { reply } = await act(mc, { type: 'announce', text: 'after resume' });
  const next = await r.c.waitEvent('message', (e) => e.data.text === 'after resume');
  assert.equal(next.seq, seq + 1);
  assert.equal(reply.seq, seq + 1);
  assert.deepEqual(r.c.seqErrors, []);
  for (const x of [mc, d2.c, r.c, r2.c]) x.close();
});

test('resume: since 0 gives every event (resumed) or the 50 most recent', async () => {
  const room = await newRoom(server);
  const { c: mc, w: mw } = await enter(server, room.id, 'moderator', 'r0-m1');
  const { c: dc } = await enter(server, room.id, 'delegate', 'r0-d1');
  await makeEvents(mc, dc, 5, 'x');
  const r = await enter(server, room.id, 'delegate', 'r0-d2', {}, { since: 0, epoch: mw.epoch });
  checkWelcomeEvents(r.w);
  if (r.w.resumed) assert.deepEqual(r.w.events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  for (const x of [mc, dc, r.c]) x.close();
});

test('resume: another epoch, or no since, gives resumed false and at most 50 most recent events', async () => {
  const room = await newRoom(server);
  const { c: mc, w: mw } = await enter(server, room.id, 'moderator', 're-m1');
  const { c: dc } = await enter(server, room.id, 'delegate', 're-d1');
  const last = await makeEvents(mc, dc, 60, 'many');
  assert.equal(last, 60);
  for (const extra of [{ since: 10, epoch: `${mw.epoch}x` }, { since: 10, epoch: 'zz-other-epoch' }, {}, { epoch: mw.epoch }]) {
    const r = await enter(server, room.id, 'delegate', 're-d2', {}, extra);
    assert.equal(r.w.resumed, false, JSON.stringify(extra));
    assert.equal(r.w.seq, 60);
    checkWelcomeEvents(r.w);
    assert.ok(r.w.events.length >= 1);
    assert.ok(r.w.events.length <= 50);
    assert.equal(r.w.events.at(-1).data.text, 'many 59');
    r.c.close();
  }
  // Same epoch, since 10: every event after it is still there or not; the rule holds either way.
  const r = await enter(server, room.id, 'delegate', 're-d3', {}, { since: 10, epoch: mw.epoch });
  checkWelcomeEvents(r.w);
  if (r.w.resumed) assert.equal(r.w.events.length, 50);
  r.c.close();
  mc.close(); dc.close();
});

test('resume under load: welcome events and live events join with no gap and no duplicate', async () => {
  const room = await newRoom(server);
  const { c: mc, w: mw } = await enter(server, room.id, 'moderator', 'rl-m1');
  const { c: dc } = await enter(server, room.id, 'delegate', 'rl-d1');
  await makeEvents(mc, dc, 4, 'warm');
  const since = 2;
  // Fire 30 events without waiting, and join in the middle of them.
  const at = mc.mark();
  for (let i = 0; i < 15; i++) { mc.send({ type: 'say', text: `burst m ${i}`, id: `bm-${i}` }); dc.send({ type: 'say', text: `burst d ${i}`, id: `bd-${i}` }); }
  const joins = [
    enter(server, room.id, 'delegate', 'rl-d2', {}, { since, epoch: mw.epoch }),
    enter(server, room.id, 'observer', 'rl-o1'),
    enter(server, room.id, 'delegate', 'rl-d3', {}, { since: 4, epoch: mw.epoch }),
  ];
  const joined = await Promise.all(joins);
  await mc.waitFor((m) => m.id === 'bm-14', 5000, at);
  await dc.waitFor((m) => m.id === 'bd-14', 5000, at);
  await mc.sync();
  const final = mc.lastSeq;
  assert.equal(final, 34);
  for (const { c, w } of joined) {
    checkWelcomeEvents(w);
    if (c.lastSeq < final) await c.waitFor((m) => m.type === 'event' && m.seq === final, 5000).catch(() => {});
    const seen = [...w.events.map((e) => e.seq), ...c.log.filter((m) => m.type === 'event').map((m) => m.seq)];
    const first = seen.length ? seen[0] : final + 1;
    const expected = [];
    for (let s = first; s <= final; s++) expected.push(s);
    assert.deepEqual(seen, expected, `welcome seq ${w.seq}, resumed ${w.resumed}`);
    if (w.resumed) assert.equal(first, w.you.sub === 'rl-d2' ? since + 1 : 5);
    else assert.ok(w.seq - w.events.length + 1 === first);
    assert.deepEqual(c.seqErrors, []);
    c.close();
  }
  mc.close(); dc.close();
});

test('rooms are isolated: events of one room never reach another', async () => {
  const a = await newRoom(server);
  const b = await newRoom(server);
  const { c: ca } = await enter(server, a.id, 'moderator', 'iso-m1');
  const { c: cb, w: wb } = await enter(server, b.id, 'moderator', 'iso-m1');
  await act(ca, { type: 'announce', text: 'only in a' });
  await cb.sync();
  assert.equal(cb.log.filter((m) => m.type === 'event').length, 0);
  const { reply } = await act(cb, { type: 'announce', text: 'only in b' });
  assert.equal(reply.seq, wb.seq + 1);
  ca.close(); cb.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
