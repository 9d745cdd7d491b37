// Contract sections 4 and 5: the chair's commands, chat, roles, status and
// settings, and the state parts each event carries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, claims, sleep, firstFrameClose, stopChecked } from '../lib/harness.mjs';
import { meeting as meetingIn, stateKeys } from '../lib/meeting.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const meeting = (...args) => meetingIn(server, ...args);

test('mute / unmute: participant_muted, muted chat refused with muted, unmuted again', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.fr, { type: 'say', text: 'before' });
  const { events } = await mt.ok(mt.m, { type: 'mute', sub: 'fr' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'participant_muted');
  assert.equal(ev.actor, 'chair');
  assert.deepEqual(ev.data, { sub: 'fr' });
  assert.deepEqual(stateKeys(ev), ['muted']);
  assert.deepEqual(ev.state.muted, ['fr']);
  assert.deepEqual(await mt.d.fr.waitEvent('participant_muted'), ev);
  await mt.refused(mt.d.fr, { type: 'say', text: 'muffled' }, 'muted');
  // A chat mute only: fr may still ask for the floor; de still chats.
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.d.de, { type: 'say', text: 'I can talk' });
  // Every tab of fr is muted, and the participant says so.
  const tab2 = await mt.join('delegate', 'fr');
  assert.equal(tab2.w.you.muted, true);
  assert.deepEqual(tab2.w.room.muted, ['fr']);
  await mt.refused(tab2.c, { type: 'say', text: 'other tab' }, 'muted');
  const snap = await mt.snapshot();
  assert.deepEqual(snap.muted, ['fr']);
  assert.equal(snap.participants.find((p) => p.sub === 'fr').muted, true);
  const un = (await mt.ok(mt.m, { type: 'unmute', sub: 'fr' })).events.at(-1);
  assert.equal(un.name, 'participant_unmuted');
  assert.deepEqual(un.data, { sub: 'fr' });
  assert.deepEqual(stateKeys(un), ['muted']);
  assert.deepEqual(un.state.muted, []);
  await mt.ok(mt.d.fr, { type: 'say', text: 'after' });
  mt.close();
});

test('remove: participant_removed, every connection closed 4403, requests gone, rejoin refused 4403', async () => {
  const mt = await meeting({});
  const tab2 = await mt.join('delegate', 'fr');
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'point_of_order' });
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'mute', sub: 'fr' });
  const { events } = await mt.ok(mt.m, { type: 'remove', sub: 'fr' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'participant_removed');
  assert.deepEqual(ev.data, { sub: 'fr' });
  assert.deepEqual(stateKeys(ev), ['muted', 'queue']);
  assert.deepEqual(ev.state.queue.map((r) => r.sub), ['de']);
  assert.ok(!ev.state.muted.includes('fr'), `muted still lists fr: ${ev.state.muted}`);
  for (const c of [mt.d.fr, tab2.c]) {
    const close = await c.waitClose(5000);
    assert.equal(close.code, 4403);
  }
  // de is unaffected.
  await mt.ok(mt.d.de, { type: 'say', text: 'still here' });
  // A new token for fr is refused in this room, whatever its role.
  for (const role of ['delegate', 'observer']) {
    const { close, messages } = await firstFrameClose(server, { type: 'join', token: server.token(claims(mt.room.id, role, 'fr')) });
    assert.equal(close.code, 4403, `rejoin as ${role}`);
    assert.ok(!messages.some((m) => m.type === 'welcome'), `rejoin as ${role} welcomed`);
  }
  // The removal is for this room only.
  const other = await meeting({}, [['fr', {}]]);
  await other.ok(other.d.fr, { type: 'say', text: 'welcome here' });
  other.close();
  mt.close();
});

test('remove: the moderator can still end the floor of a removed participant', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.m, { type: 'remove', sub: 'fr' });
  assert.equal((await mt.d.fr.waitClose(5000)).code, 4403);
  await mt.m.sync();
  if ((await mt.snapshot()).floor !== null) await mt.ok(mt.m, { type: 'end_floor' });
  assert.equal((await mt.snapshot()).floor, null);
  mt.close();
});

test('set_role: delegate to observer and back; a moderator is made only by token', async () => {
  const mt = await meeting({});
  const { events } = await mt.ok(mt.m, { type: 'set_role', sub: 'fr', role: 'observer' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'role_changed');
  assert.deepEqual(ev.data, { sub: 'fr', role: 'observer' });
  assert.ok(stateKeys(ev).every((k) => k === 'participants'), `role_changed state: ${stateKeys(ev)}`);
  await mt.d.fr.waitEvent('role_changed');
  // fr's open connection now acts as an observer.
  await mt.refused(mt.d.fr, { type: 'request_floor' }, 'forbidden');
  await mt.refused(mt.d.fr, { type: 'say', text: 'hello?' }, 'forbidden');
  // And so does a new connection with fr's delegate token.
  const tab2 = await mt.join('delegate', 'fr');
  assert.equal(tab2.w.you.role, 'observer');
  await mt.refused(tab2.c, { type: 'request_floor' }, 'forbidden');
  await mt.ok(mt.m, { type: 'set_role', sub: 'fr', role: 'delegate' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.refused(mt.m, { type: 'set_role', sub: 'fr', role: 'moderator' });
  await mt.refused(mt.m, { type: 'set_role', sub: 'fr', role: 'king' }, 'bad_request');
  await mt.refused(mt.d.fr, { type: 'announce', text: 'not a moderator' }, 'forbidden');
  mt.close();
});

test('announce: message kind announcement from the moderator', async () => {
  const mt = await meeting({ chat: 'off' });
  const { events } = await mt.ok(mt.m, { type: 'announce', text: 'The meeting resumes at 3 pm.' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'message');
  assert.equal(ev.actor, 'chair');
  assert.deepEqual(ev.data, { from: { sub: 'chair', name: 'The Chair', delegation: null, role: 'moderator' },
    text: 'The meeting resumes at 3 pm.', kind: 'announcement' });
  assert.deepEqual(stateKeys(ev), []);
  assert.deepEqual(await mt.d.fr.waitEvent('message'), ev);
  await mt.refused(mt.d.fr, { type: 'announce', text: 'me too' }, 'forbidden');
  await mt.refused(mt.m, { type: 'announce', text: '' }, 'bad_request');
  mt.close();
});

test('say: message kind chat with from, text as sent', async () => {
  const mt = await meeting({});
  const text = 'Merci, Monsieur le Président. «Ça va» — 谢谢 🌍 <b>not html</b> "quoted" \\ back\nslash';
  const ev = (await mt.ok(mt.d.fr, { type: 'say', text })).events.at(-1);
  assert.equal(ev.name, 'message');
  assert.equal(ev.actor, 'fr');
  assert.deepEqual(ev.data, { from: { sub: 'fr', name: 'Delegate fr', delegation: 'France', role: 'delegate' }, text, kind: 'chat' });
  assert.deepEqual(await mt.d.de.waitEvent('message'), ev);
  mt.close();
});

test('chat rule "open": delegates and moderators; observers forbidden', async () => {
  const mt = await meeting({ chat: 'open' });
  const o = await mt.join('observer', 'obs');
  await mt.ok(mt.d.fr, { type: 'say', text: 'hi' });
  await mt.ok(mt.m, { type: 'say', text: 'hi all' });
  await mt.refused(o.c, { type: 'say', text: 'hi' }, 'forbidden');
  mt.close();
});

test('chat rule "floor": the floor holder and moderators only', async () => {
  const mt = await meeting({ chat: 'floor' });
  await mt.refused(mt.d.fr, { type: 'say', text: 'no floor yet' }, 'forbidden');
  await mt.ok(mt.m, { type: 'say', text: 'chair speaks' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.d.fr, { type: 'say', text: 'I hold the floor' });
  await mt.refused(mt.d.de, { type: 'say', text: 'I do not' }, 'forbidden');
  await mt.ok(mt.d.fr, { type: 'yield' });
  await mt.refused(mt.d.fr, { type: 'say', text: 'no longer' }, 'forbidden');
  mt.close();
});

test('chat rule "off": nobody says anything; announce still works', async () => {
  const mt = await meeting({ chat: 'off' });
  await mt.refused(mt.d.fr, { type: 'say', text: 'x' }, 'forbidden');
  await mt.refused(mt.m, { type: 'say', text: 'x' }, 'forbidden');
  await mt.ok(mt.m, { type: 'announce', text: 'y' });
  // Switching the rule live takes effect at once.
  await mt.ok(mt.m, { type: 'update_settings', settings: { chat: 'open' } });
  await mt.ok(mt.d.fr, { type: 'say', text: 'now I can' });
  mt.close();
});

// Well-formed commands with valid arguments, so that only the role refuses them.
const CHAIR_COMMANDS = [
  { type: 'grant' }, { type: 'grant', sub: 'de' }, { type: 'end_floor' }, { type: 'pause' }, { type: 'resume' },
  { type: 'extend', seconds: 10 }, { type: 'move', request_id: 'r1', to: 0 }, { type: 'remove_request', request_id: 'r1' },
  { type: 'open_list' }, { type: 'close_list' }, { type: 'mute', sub: 'de' }, { type: 'unmute', sub: 'de' },
  { type: 'remove', sub: 'de' }, { type: 'set_role', sub: 'de', role: 'observer' }, { type: 'announce', text: 'x' },
  { type: 'set_agenda_item', item: 'q2' }, { type: 'set_status', status: 'suspended' },
  { type: 'update_settings', settings: { speech_s: 5 } },
];
const PARTICIPANT_COMMANDS = [
  { type: 'request_floor' }, { type: 'request_floor', kind: 'point_of_order' }, { type: 'withdraw', request_id: 'r1' },
  { type: 'yield' }, { type: 'say', text: 'x' },
];

test('observers: forbidden for every command but ping', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  const o = await mt.join('observer', 'obs');
  const at = mt.m.mark();
  for (const cmd of [...PARTICIPANT_COMMANDS, ...CHAIR_COMMANDS]) await mt.refused(o.c, cmd, 'forbidden');
  await o.c.sync();
  await mt.m.sync();
  assert.deepEqual(mt.m.eventsSince(at), [], 'an observer changed the room');
  mt.close();
});

test('delegates: forbidden for every moderator command', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  const at = mt.m.mark();
  for (const cmd of CHAIR_COMMANDS) {
    await mt.refused(mt.d.fr, cmd, 'forbidden');
    if (CHAIR_COMMANDS.indexOf(cmd) % 10 === 9) await sleep(500); // stay under the rate limit
  }
  await mt.m.sync();
  assert.deepEqual(mt.m.eventsSince(at), [], 'a delegate changed the room');
  mt.close();
});

// Malformed arguments: what the role may not send is refused with
// forbidden before its arguments are looked at (contract section 5); a
// moderator sending the same gets bad_request.
const MALFORMED_CHAIR = [
  { type: 'grant', request_id: 5 }, { type: 'extend', seconds: 0 }, { type: 'move', request_id: 'r1' },
  { type: 'set_status', status: 'OPEN' }, { type: 'update_settings', speech_s: 60 }, { type: 'announce', text: '' },
  { type: 'mute' }, { type: 'set_role', sub: 'de', role: 'moderator' },
];

test('permission before arguments: forbidden for a command the role may not send, whatever its arguments', async () => {
  const mt = await meeting({});
  const o = await mt.join('observer', 'obs');
  const at = mt.m.mark();
  for (const cmd of MALFORMED_CHAIR) {
    const r = await mt.refused(mt.d.fr, cmd, 'forbidden');
    assert.match(r.reply.message, /is for moderators/);
    await mt.refused(o.c, cmd, 'forbidden');
    const m = await mt.refused(mt.m, cmd, 'bad_request');
    if (cmd.type === 'update_settings') assert.match(m.reply.message, /\{"type":"update_settings","settings":\{/);
    await sleep(150); // stay under the rate limit
  }
  // Observers, for the participant commands too.
  for (const cmd of [{ type: 'request_floor', kind: 'bogus' }, { type: 'say' }, { type: 'withdraw' }]) {
    const r = await mt.refused(o.c, cmd, 'forbidden');
    assert.match(r.reply.message, /observers can only follow/);
    await mt.refused(mt.d.fr, cmd, 'bad_request');
  }
  // A say over the server's length limit from an observer: forbidden too.
  await mt.refused(o.c, { type: 'say', text: 'x'.repeat(2001) }, 'forbidden');
  await mt.refused(mt.d.fr, { type: 'say', text: 'x'.repeat(2001) }, 'too_large');
  await mt.m.sync();
  assert.deepEqual(mt.m.eventsSince(at), [], 'a refused command changed the room');
  mt.close();
});

test('set_agenda_item: agenda_item_set; not_found for an unknown item', async () => {
  const mt = await meeting({});
  let ev = (await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q2' })).events.at(-1);
  assert.equal(ev.name, 'agenda_item_set');
  assert.deepEqual(ev.data, { item: 'q2' });
  assert.deepEqual(stateKeys(ev), ['agenda_item', 'agenda_item_started_at']);
  assert.equal(ev.state.agenda_item_started_at, ev.ts);
  assert.equal(ev.state.agenda_item, 'q2');
  ev = (await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q1' })).events.at(-1);
  assert.equal(ev.state.agenda_item, 'q1');
  await mt.refused(mt.m, { type: 'set_agenda_item', item: 'q99' }, 'not_found');
  assert.equal((await mt.snapshot()).agenda_item, 'q1');
  mt.close();
});

test('set_status suspended: only moderators act (room_not_open); open again', async () => {
  const mt = await meeting({});
  const o = await mt.join('observer', 'obs');
  await mt.ok(mt.d.de, { type: 'request_floor' });
  const ev = (await mt.ok(mt.m, { type: 'set_status', status: 'suspended' })).events.at(-1);
  assert.equal(ev.name, 'status_changed');
  assert.deepEqual(ev.data, { status: 'suspended' });
  assert.deepEqual(stateKeys(ev), ['agenda_item_started_at', 'status']);
  assert.equal(ev.state.status, 'suspended');
  for (const cmd of PARTICIPANT_COMMANDS) await mt.refused(mt.d.fr, cmd, 'room_not_open');
  await mt.refused(mt.d.fr, { type: 'announce', text: 'x' }, 'forbidden');
  await mt.refused(o.c, { type: 'say', text: 'x' }, 'forbidden');
  await mt.ok(mt.m, { type: 'announce', text: 'we are suspended' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.m, { type: 'end_floor' });
  // A late joiner sees the status.
  const late = await mt.join('delegate', 'it');
  assert.equal(late.w.room.status, 'suspended');
  await mt.ok(mt.m, { type: 'set_status', status: 'open' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  mt.close();
});

test('set_status closed: every command gets room_closed; ping and joining still work', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const ev = (await mt.ok(mt.m, { type: 'set_status', status: 'closed' })).events.at(-1);
  assert.deepEqual(ev.data, { status: 'closed' });
  await mt.d.fr.waitEvent('status_changed');
  for (const cmd of [...PARTICIPANT_COMMANDS, { type: 'request_floor', kind: 'reply' }]) await mt.refused(mt.d.fr, cmd, 'room_closed');
  for (const cmd of CHAIR_COMMANDS.slice(0, 8)) await mt.refused(mt.m, cmd, 'room_closed');
  await sleep(500);
  for (const cmd of CHAIR_COMMANDS.slice(8)) await mt.refused(mt.m, cmd, 'room_closed');
  await mt.refused(mt.m, { type: 'set_status', status: 'open' }, 'room_closed');
  await mt.d.fr.sync();
  const late = await mt.join('delegate', 'it');
  assert.equal(late.w.room.status, 'closed');
  assert.equal(late.w.room.queue.length, 1);
  await mt.refused(late.c, { type: 'request_floor' }, 'room_closed');
  mt.close();
});

test('update_settings: settings_changed with the whole settings; bad_request for invalid values', async () => {
  const mt = await meeting({});
  const { events } = await mt.ok(mt.m, { type: 'update_settings', settings: { speech_s: 90, queue_order: 'category' } });
  const ev = events.at(-1);
  assert.equal(ev.name, 'settings_changed');
  assert.equal(ev.data.settings.speech_s, 90);
  assert.equal(ev.data.settings.queue_order, 'category');
  assert.deepEqual(stateKeys(ev), ['settings']);
  assert.deepEqual(ev.state.settings, {
    speech_s: 90, reply_s: 60, point_of_order_s: 60, on_time_up: 'notify', chat: 'open', list_open: true,
    queue_order: 'category', replies_per_item: 2, pause_on_disconnect: true, changeover_s: 15,
  });
  // The new limit applies to the next floor.
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  assert.equal((await mt.ok(mt.m, { type: 'grant' })).events.at(-1).data.floor.limit_s, 90);
  const bad = [
    { speech_s: 0 }, { speech_s: -1 }, { speech_s: '60' }, { speech_s: 1.5 }, { reply_s: 0 }, { point_of_order_s: null },
    { on_time_up: 'explode' }, { chat: 'loud' }, { queue_order: 'alpha' }, { list_open: 'yes' }, { replies_per_item: -1 },
    { pause_on_disconnect: 1 }, { speech_s: 90, chat: 'loud' },
  ];
  for (const [i, settings] of bad.entries()) {
    await mt.refused(mt.m, { type: 'update_settings', settings }, 'bad_request');
    if (i === 9) await sleep(600);
  }
  await mt.refused(mt.m, { type: 'update_settings', settings: 5 }, 'bad_request');
  await mt.refused(mt.m, { type: 'update_settings' }, 'bad_request');
  assert.deepEqual((await mt.snapshot()).settings, ev.state.settings, 'a refused update changed the settings');
  mt.close();
});

// The state parts each event carries (contract section 4).
const PARTS = {
  floor_requested: ['queue'], request_withdrawn: ['queue'], request_removed: ['queue'], request_moved: ['queue'],
  floor_granted: ['floor', 'queue'], floor_ended: ['floor', 'stats'], timer_paused: ['floor'], timer_resumed: ['floor'],
  time_extended: ['floor'], time_up: ['floor'], list_opened: ['settings'], list_closed: ['settings'],
  participant_muted: ['muted'], participant_unmuted: ['muted'], participant_removed: ['muted', 'queue'],
  role_changed: [], message: [], settings_changed: ['settings'],
  // contract 9.1: both also carry agenda_item_started_at
  agenda_item_set: ['agenda_item', 'agenda_item_started_at'], status_changed: ['agenda_item_started_at', 'status'],
  schedule_changed: ['schedule'], agenda_changed: ['agenda'],
};

test('event.state: every event carries exactly the parts it changed, as the snapshot has them', async () => {
  const mt = await meeting({ speech_s: 1 }, [['fr', {}], ['de', {}], ['it', {}]]);
  const at = mt.m.mark();
  const r1 = (await mt.ok(mt.d.fr, { type: 'request_floor' })).events.at(-1).data.request;
  const r2 = (await mt.ok(mt.d.de, { type: 'request_floor' })).events.at(-1).data.request;
  const r3 = (await mt.ok(mt.d.it, { type: 'request_floor' })).events.at(-1).data.request;
  await mt.ok(mt.d.fr, { type: 'withdraw', request_id: r1.id });
  await mt.ok(mt.m, { type: 'move', request_id: r3.id, to: 0 });
  await mt.ok(mt.m, { type: 'remove_request', request_id: r2.id });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.m.waitEvent('time_up', () => true, 4000, at);
  await mt.ok(mt.m, { type: 'pause' });
  await mt.ok(mt.m, { type: 'resume' });
  await mt.ok(mt.m, { type: 'extend', seconds: 60 });
  await mt.ok(mt.m, { type: 'end_floor' });
  await mt.ok(mt.m, { type: 'close_list' });
  await mt.ok(mt.m, { type: 'open_list' });
  await mt.ok(mt.m, { type: 'mute', sub: 'de' });
  await mt.ok(mt.m, { type: 'unmute', sub: 'de' });
  await mt.ok(mt.m, { type: 'set_role', sub: 'de', role: 'observer' });
  await mt.ok(mt.m, { type: 'say', text: 'chat' });
  await mt.ok(mt.m, { type: 'announce', text: 'announcement' });
  await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q2' });
  await mt.ok(mt.m, { type: 'update_settings', settings: { reply_s: 30 } });
  await mt.ok(mt.m, { type: 'set_schedule', schedule: { starts_at: 1783000000000, ends_at: 1783007200000, time_zone: 'America/New_York' } });
  await mt.ok(mt.m, { type: 'set_agenda', agenda: [{ id: 'q2', title: 'Second question', planned_s: 600 }] });
  await mt.ok(mt.m, { type: 'remove', sub: 'it' });
  await mt.ok(mt.m, { type: 'set_status', status: 'suspended' });
  const evs = mt.m.eventsSince(at);
  const seen = new Set(evs.map((e) => e.name));
  assert.deepEqual([...Object.keys(PARTS)].filter((n) => !seen.has(n)), [], 'scenario did not produce every event');
  // Replay the events on the snapshot taken before them: each state part
  // must be the whole new value, so the result is the final snapshot.
  const snapBefore = mt.m.log.find((m) => m.type === 'welcome').room;
  const mirror = structuredClone(snapBefore);
  let seq = evs[0].seq - 1;
  for (const ev of evs) {
    assert.equal(ev.seq, ++seq, 'seqs grow by exactly 1');
    assert.equal(typeof ev.ts, 'number');
    assert.ok('actor' in ev, `${ev.name} has no actor`);
    assert.ok(ev.data && typeof ev.data === 'object', `${ev.name} has no data`);
    const keys = stateKeys(ev);
    if (ev.name === 'role_changed') assert.ok(keys.every((k) => k === 'participants'), `${ev.name} state ${keys}`);
    else assert.deepEqual(keys, PARTS[ev.name], `${ev.name} state parts`);
    for (const k of keys) if (k !== 'participants') mirror[k] = ev.state[k];
  }
  const snap = await mt.snapshot();
  for (const k of ['status', 'agenda_item', 'settings', 'queue', 'floor', 'muted', 'stats', 'schedule', 'agenda', 'agenda_item_started_at']) {
    assert.deepEqual(mirror[k], snap[k], `${k} rebuilt from event states differs from the snapshot`);
  }
  // Actors: the clock's events have none.
  for (const ev of evs) {
    if (ev.name === 'time_up') assert.equal(ev.actor, null);
    else assert.equal(typeof ev.actor, 'string', `${ev.name} actor ${ev.actor}`);
  }
  mt.checkSeqs();
  // Every connection saw the same events, in the same order.
  await mt.d.fr.waitFor((m) => m.type === 'event' && m.seq === evs.at(-1).seq);
  const frEvs = mt.d.fr.log.filter((m) => m.type === 'event' && m.seq >= evs[0].seq);
  assert.deepEqual(frEvs, evs, 'two connections saw different event streams');
  mt.close();
});

test('who may do what: a moderator can do everything a delegate can', async () => {
  const mt = await meeting({});
  await mt.ok(mt.m, { type: 'request_floor', kind: 'point_of_order' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.m, { type: 'say', text: 'from the chair' });
  await mt.ok(mt.m, { type: 'yield' });
  mt.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
