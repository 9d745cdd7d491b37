// A representative subset of the one-node rules (contract sections 3, 5)
// against a 2-node cluster, actors and watchers on different nodes: the
// same behaviour with the Redis backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { newRoom, firstFrameClose, mintToken, stopChecked } from '../lib/harness.mjs';
import { withLogs, startCluster, enter, act, waitSeq, stateOf } from './lib.mjs';

let cl;
before(async () => { cl = await startCluster(2); });
after(async () => { await cl?.stop(); });

const PARTICIPANT_KEYS = ['sub', 'name', 'role', 'delegation', 'category', 'region', 'online', 'connections', 'muted'].sort();
const SETTINGS_KEYS = ['speech_s', 'reply_s', 'point_of_order_s', 'on_time_up', 'chat', 'list_open', 'queue_order',
  'replies_per_item', 'pause_on_disconnect', 'changeover_s'].sort();

// A meeting: chair on n1, delegates fr (n2) and de (n1), observer on n2.
async function meeting(settings = {}) {
  const [n1, n2] = cl.nodes;
  const room = await newRoom(n2, { settings: { speech_s: 600, ...settings } });
  const m = await enter(n1, room.id, 'moderator', 'chair', { name: 'The Chair' });
  const fr = await enter(n2, room.id, 'delegate', 'fr', { delegation: 'France', category: 'member_state' });
  const de = await enter(n1, room.id, 'delegate', 'de', { delegation: 'Germany', category: 'member_state' });
  const o = await enter(n2, room.id, 'observer', 'obs');
  const all = [m, fr, de, o];
  const mt = {
    room, m, fr, de, o, all,
    // Acts, expects an ack, and waits until every client has the event(s).
    async ok(x, cmd) {
      const r = await act(x.c, cmd);
      assert.equal(r.reply.type, 'ack', `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
      await Promise.all(all.filter((y) => !y.c.closed).map((y) => waitSeq(y.c, r.reply.seq)));
      return r;
    },
    async refused(x, cmd, code) {
      const r = await act(x.c, cmd);
      assert.equal(r.reply.type, 'error', `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
      assert.equal(r.reply.code, code, `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
      assert.deepEqual(r.events, [], 'events before a refusal');
      return r;
    },
    close() { for (const x of all) x.c.close(); },
  };
  return mt;
}

test('join on either node: welcome shape, you, participants of both nodes, snapshot', withLogs(() => cl, async () => {
  const mt = await meeting();
  // Presence travels between nodes through Redis: wait until node 1 has
  // heard of everyone who joined elsewhere before comparing its welcome.
  const until = Date.now() + 5000;
  for (;;) {
    const r = (await cl.nodes[0].api('GET', `/api/rooms/${mt.room.id}`)).json;
    if (r.observers === 1 && r.participants.filter((p) => p.online).length === 3) break;
    assert.ok(Date.now() < until, `node 1 never saw everyone: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const it = await enter(cl.nodes[0], mt.room.id, 'delegate', 'it', { delegation: 'Italy', category: 'member_state', name: 'Italia' });
  const w = it.w;
  assert.deepEqual(Object.keys(w).sort(), ['epoch', 'events', 'observers', 'participants', 'resumed', 'room', 'seq', 'type', 'you'].sort());
  assert.deepEqual(w.you, { sub: 'it', name: 'Italia', role: 'delegate', delegation: 'Italy', category: 'member_state', region: null, online: true, connections: 1, muted: false });
  for (const p of w.participants) assert.deepEqual(Object.keys(p).sort(), PARTICIPANT_KEYS);
  assert.deepEqual(w.participants.map((p) => p.sub).sort(), ['chair', 'de', 'fr', 'it']);
  for (const p of w.participants) assert.equal(p.online, true, `${p.sub} offline in ${JSON.stringify(w.participants)}`);
  assert.equal(w.observers, 1);
  assert.equal(w.epoch, mt.m.w.epoch);
  assert.equal(w.room.id, mt.room.id);
  assert.deepEqual(Object.keys(w.room.settings).sort(), SETTINGS_KEYS);
  for (const k of ['id', 'title', 'status', 'agenda', 'agenda_item', 'settings', 'queue', 'floor', 'muted', 'stats']) assert.ok(k in w.room, k);
  mt.close();
}));

test('tokens: bad signature, alg none and expiry refused with 4401 on every node; unknown room 4404', withLogs(() => cl, async () => {
  const mt = await meeting();
  for (const n of cl.nodes) {
    const claims = { sub: 'x', name: 'X', room: mt.room.id, role: 'delegate' };
    for (const [what, tok] of [
      ['bad signature', mintToken('not the secret at all, no', claims)],
      ['alg none', mintToken(cl.secret, claims, { alg: 'none', sign: false })],
      ['expired', mintToken(cl.secret, claims, { ttl: -120 })],
    ]) {
      const { close, messages } = await firstFrameClose(n, { type: 'join', token: tok });
      assert.equal(close.code, 4401, `${what} on ${n.id}`);
      assert.ok(messages.some((x) => x.type === 'error' && x.code === 'unauthorized'), `${what} on ${n.id}: ${JSON.stringify(messages)}`);
    }
    const { close } = await firstFrameClose(n, { type: 'join', token: n.token({ sub: 'x', name: 'X', room: 'no-such-room-here', role: 'delegate' }) });
    assert.equal(close.code, 4404, `unknown room on ${n.id}`);
  }
  mt.close();
}));

test('role rules: observers only ping; delegates forbidden for moderator commands; moderator on the other node acts', withLogs(() => cl, async () => {
  const mt = await meeting();
  for (const cmd of [{ type: 'request_floor' }, { type: 'say', text: 'hi' }, { type: 'grant' }, { type: 'announce', text: 'x' }]) {
    await mt.refused(mt.o, cmd, 'forbidden');
  }
  for (const cmd of [{ type: 'grant' }, { type: 'end_floor' }, { type: 'announce', text: 'x' }, { type: 'mute', sub: 'de' },
    { type: 'set_status', status: 'suspended' }, { type: 'close_list' }, { type: 'update_settings', settings: { chat: 'off' } }]) {
    await mt.refused(mt.fr, cmd, 'forbidden');
  }
  await mt.ok(mt.fr, { type: 'request_floor' });
  await mt.refused(mt.fr, { type: 'request_floor' }, 'conflict');
  await mt.ok(mt.fr, { type: 'request_floor', kind: 'reply' });
  await mt.ok(mt.de, { type: 'request_floor', kind: 'point_of_order' });
  // Queue order: point of order first, then the speech, the reply at the end.
  const q = stateOf(mt.o.c, mt.o.w).queue;
  assert.deepEqual(q.map((r) => [r.sub, r.kind]), [['de', 'point_of_order'], ['fr', 'speech'], ['fr', 'reply']]);
  const g = await mt.ok(mt.m, { type: 'grant' });
  assert.equal(g.events.at(-1).data.floor.sub, 'de');
  await mt.refused(mt.fr, { type: 'yield' }, 'forbidden');
  await mt.ok(mt.de, { type: 'yield' });
  // set_role across nodes: fr (on n2) made observer by the chair (on n1).
  await mt.ok(mt.m, { type: 'set_role', sub: 'fr', role: 'observer' });
  await mt.refused(mt.fr, { type: 'say', text: 'still?' }, 'forbidden');
  await mt.ok(mt.m, { type: 'set_role', sub: 'fr', role: 'delegate' });
  await mt.ok(mt.fr, { type: 'say', text: 'back' });
  // Suspended: delegates get room_not_open, the chair still acts.
  await mt.ok(mt.m, { type: 'set_status', status: 'suspended' });
  await mt.refused(mt.fr, { type: 'say', text: 'x' }, 'room_not_open');
  await mt.ok(mt.m, { type: 'announce', text: 'suspended' });
  await mt.ok(mt.m, { type: 'set_status', status: 'open' });
  for (const x of mt.all) assert.deepEqual(x.c.seqErrors, []);
  mt.close();
}));

test('chat rule open / floor / off, set by the chair on n1, obeyed by delegates on n2 and n1', withLogs(() => cl, async () => {
  const mt = await meeting({ chat: 'open' });
  await mt.ok(mt.fr, { type: 'say', text: 'open: delegate' });
  await mt.ok(mt.m, { type: 'say', text: 'open: chair' });
  await mt.ok(mt.m, { type: 'update_settings', settings: { chat: 'floor' } });
  await mt.refused(mt.fr, { type: 'say', text: 'floor: not holder' }, 'forbidden');
  await mt.ok(mt.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.fr, { type: 'say', text: 'floor: holder' });
  await mt.refused(mt.de, { type: 'say', text: 'floor: other' }, 'forbidden');
  await mt.ok(mt.m, { type: 'say', text: 'floor: chair' });
  await mt.ok(mt.m, { type: 'update_settings', settings: { chat: 'off' } });
  await mt.refused(mt.fr, { type: 'say', text: 'off: holder' }, 'forbidden');
  await mt.refused(mt.m, { type: 'say', text: 'off: chair' }, 'forbidden');
  await mt.ok(mt.m, { type: 'announce', text: 'off: announce' });
  // Muted across nodes.
  await mt.ok(mt.m, { type: 'update_settings', settings: { chat: 'open' } });
  await mt.ok(mt.m, { type: 'mute', sub: 'fr' });
  await mt.refused(mt.fr, { type: 'say', text: 'muted' }, 'muted');
  await mt.ok(mt.m, { type: 'unmute', sub: 'fr' });
  await mt.ok(mt.fr, { type: 'say', text: 'unmuted' });
  const texts = mt.o.c.log.filter((e) => e.type === 'event' && e.name === 'message').map((e) => e.data.text);
  assert.deepEqual(texts, ['open: delegate', 'open: chair', 'floor: holder', 'floor: chair', 'off: announce', 'unmuted']);
  mt.close();
}));

test('remove on n1 closes the participant\'s connections on n2 with 4403; rejoin refused on both nodes', withLogs(() => cl, async () => {
  const mt = await meeting();
  const fr2 = await enter(cl.nodes[0], mt.room.id, 'delegate', 'fr', { delegation: 'France' });
  await mt.ok(mt.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'remove', sub: 'fr' });
  assert.equal((await mt.fr.c.waitClose(5000)).code, 4403);
  assert.equal((await fr2.c.waitClose(5000)).code, 4403);
  assert.deepEqual(stateOf(mt.o.c, mt.o.w).queue, []);
  for (const n of cl.nodes) {
    const { close } = await firstFrameClose(n, { type: 'join', token: n.token({ sub: 'fr', name: 'F', room: mt.room.id, role: 'delegate' }) });
    assert.equal(close.code, 4403, `rejoin on ${n.id}`);
  }
  mt.close();
}));

test('pause_on_disconnect: the holder\'s last connection (on n2) drops; the chair on n1 sees timer_paused, actor null', withLogs(() => cl, async () => {
  const mt = await meeting({ pause_on_disconnect: true });
  await mt.ok(mt.fr, { type: 'request_floor' });
  const seen = mt.fr.c.mark();
  await mt.ok(mt.m, { type: 'grant' });
  // The holder's node knows it holds the floor (the chair's ack on n1 can
  // come before n2 applied the grant; a holder who never saw the grant
  // cannot be paused by n2).
  await mt.fr.c.waitEvent('floor_granted', () => true, 5000, seen);
  const at = mt.m.c.mark();
  mt.fr.c.close();
  const p = await mt.m.c.waitEvent('timer_paused', () => true, 5000, at);
  assert.equal(p.actor, null);
  assert.equal(p.state.floor.paused, true);
  await mt.ok(mt.m, { type: 'resume' });
  mt.close();
}));

// Contract 9.1 and 9.3 across nodes: a scheduled room, a schedule and an
// agenda changed on one node, the region of a person who joined on the
// other, and the item's start, the same everywhere.
test('schedule, timed agenda, item start and regions agree on both nodes', withLogs(() => cl, async () => {
  const [n1, n2] = cl.nodes;
  const starts = Date.now() + 3600000;
  const id = `sched-cl-${process.pid}`;
  const made = await n1.api('POST', '/api/rooms', { id, title: 'Closing', status: 'scheduled',
    schedule: { starts_at: starts, ends_at: starts + 7200000, time_zone: 'America/New_York' },
    agenda: [{ id: 'q1', title: 'One', planned_s: 1800 }, { id: 'usg', title: 'Conclusions', planned_s: 900, reserved: true }] });
  assert.equal(made.status, 201, made.text);
  const chair = await enter(n1, id, 'moderator', 'chair');
  const ke = await enter(n2, id, 'delegate', 'ke', { delegation: 'Kenya', region: 'African States' });
  const r = await act(ke.c, { type: 'request_floor' });
  assert.equal(r.reply.type, 'ack');
  assert.equal(r.events[0].data.request.region, 'African States');
  const g = await act(chair.c, { type: 'grant' });
  assert.equal(g.reply.code, 'room_not_open');
  const sched = { starts_at: starts, ends_at: starts + 5400000, time_zone: 'Europe/Vienna' };
  assert.equal((await act(ke.c, { type: 'set_schedule', schedule: sched })).reply.code, 'forbidden');
  const bad = await act(chair.c, { type: 'set_schedule', schedule: { ...sched, time_zone: 'Europe/Atlantis' } });
  assert.equal(bad.reply.code, 'bad_request');
  assert.match(bad.reply.message, /schedule\.time_zone/);
  const s1 = await act(chair.c, { type: 'set_schedule', schedule: sched });
  assert.equal(s1.reply.type, 'ack');
  const open = await act(chair.c, { type: 'set_status', status: 'open' });
  const started = open.events.find((e) => e.name === 'status_changed').state.agenda_item_started_at;
  assert.equal(typeof started, 'number');
  const gg = await act(chair.c, { type: 'grant' });
  assert.equal(gg.reply.type, 'ack');
  await waitSeq(ke.c, gg.reply.seq);
  const floor = stateOf(ke.c, ke.w).floor;
  assert.equal(floor && floor.region, 'African States');
  for (const n of [n1, n2]) {
    const snap = (await n.api('GET', `/api/rooms/${id}`)).json;
    assert.deepEqual(snap.schedule, sched);
    assert.equal(snap.agenda_item_started_at, started);
    assert.equal(snap.agenda[1].reserved, true);
    assert.equal(snap.participants.find((p) => p.sub === 'ke').region, 'African States');
  }
  const late = await enter(n1, id, 'observer', 'obs');
  assert.equal(late.w.participants.find((p) => p.sub === 'ke').region, 'African States');
  for (const x of [chair, ke, late]) x.c.close();
}));

test('the nodes drain on SIGTERM and exit 0 without a sanitizer report', withLogs(() => cl, async () => {
  const mt = await meeting();
  const closes = mt.all.map((x) => x.c.waitClose(10000));
  for (const n of cl.nodes) await stopChecked(n);
  for (const c of await Promise.all(closes)) assert.equal(c.code, 1001);
}));

