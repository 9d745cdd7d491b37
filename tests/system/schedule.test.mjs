// Contract section 9.1 and 9.3 over real WebSockets: the schedule, status
// `scheduled`, the timed agenda, agenda_item_started_at, changeover_s and the
// region claim, on the embedded backend and (ROSTRUM_TEST_BACKEND=redis) on
// Redis, including a restart of the server on the same data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createRoom, enter, act, stopChecked, decodeToken, join } from '../lib/harness.mjs';

const servers = [];
after(async () => { for (const s of servers) await s.stop('SIGKILL'); });

async function server() {
  const s = await startServer({});
  servers.push(s);
  return s;
}

const HOUR = 3600 * 1000;
let roomc = 0;
function spec(extra = {}) {
  const starts = Date.now() + HOUR;
  return {
    id: `sched-${process.pid}-${++roomc}`,
    title: 'Interactive closing discussion',
    status: 'scheduled',
    schedule: { starts_at: starts, ends_at: starts + 2 * HOUR, time_zone: 'America/New_York' },
    agenda: [
      { id: 'q1', title: 'First guiding question', planned_s: 1800 },
      { id: 'q2', title: 'Second guiding question', planned_s: 1800 },
      { id: 'usg', title: 'Conclusions of the Under-Secretary-General', planned_s: 900, reserved: true },
    ],
    settings: { changeover_s: 20 },
    ...extra,
  };
}

const ok = async (c, cmd) => {
  const r = await act(c, cmd);
  assert.equal(r.reply.type, 'ack', `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
  return r;
};
// Refusals produce no event: wait first until c has every event committed
// so far (c.seen), so that another connection's event is not taken for one.
const refused = async (c, cmd, code, field, seen = 0) => {
  if ((c.lastSeq ?? 0) < seen) await c.waitFor((x) => x.type === 'event' && x.seq >= seen);
  const r = await act(c, cmd);
  assert.equal(r.reply.type, 'error', `${JSON.stringify(cmd)} accepted`);
  assert.equal(r.reply.code, code, JSON.stringify(r.reply));
  if (field) assert.match(r.reply.message, new RegExp(field.replace(/[.]/g, '\\.')), r.reply.message);
  assert.deepEqual(r.events, []);
  return r;
};

test('a room created scheduled: snapshot, joins, requests and chat before the meeting, no grant', async () => {
  const s = await server();
  const body = spec();
  const created = await createRoom(s, body);
  assert.equal(created.status, 'scheduled');
  assert.deepEqual(created.schedule, body.schedule);
  assert.equal(created.agenda_item, 'q1');
  assert.equal(created.agenda_item_started_at, null);
  assert.deepEqual(created.agenda.map((i) => [i.id, i.planned_s, !!i.reserved]),
    [['q1', 1800, false], ['q2', 1800, false], ['usg', 900, true]]);
  assert.equal(created.settings.changeover_s, 20);

  const chair = (await enter(s, body.id, 'moderator', 'chair')).c;
  const { c: fr, w } = await enter(s, body.id, 'delegate', 'fr',
    { delegation: 'France', category: 'member_state', region: 'Western European and other States' });
  assert.equal(w.room.status, 'scheduled');
  assert.deepEqual(w.room.schedule, body.schedule);
  assert.equal(w.you.region, 'Western European and other States');
  assert.equal(w.participants.find((p) => p.sub === 'fr').region, 'Western European and other States');
  assert.equal(w.participants.find((p) => p.sub === 'chair').region, null);

  const req = await ok(fr, { type: 'request_floor' });
  const ev = req.events.find((e) => e.name === 'floor_requested');
  assert.equal(ev.data.request.region, 'Western European and other States');
  await ok(fr, { type: 'say', text: 'Good morning from Paris' });
  await refused(chair, { type: 'grant' }, 'room_not_open', null, fr.lastSeq);
  await refused(chair, { type: 'grant', sub: 'fr' }, 'room_not_open');
  await refused(fr, { type: 'grant' }, 'forbidden');
  await refused(chair, { type: 'set_status', status: 'scheduled' }, 'conflict');

  // The opening starts q1's clock; its state carries it.
  const open = await ok(chair, { type: 'set_status', status: 'open' });
  const sc = open.events.find((e) => e.name === 'status_changed');
  assert.deepEqual(Object.keys(sc.state).sort(), ['agenda_item_started_at', 'status']);
  assert.equal(sc.state.agenda_item_started_at, sc.ts);
  const g = await ok(chair, { type: 'grant' });
  const fg = g.events.find((e) => e.name === 'floor_granted');
  assert.equal(fg.data.floor.region, 'Western European and other States');
  const next = await ok(chair, { type: 'set_agenda_item', item: 'q2' });
  const ai = next.events.find((e) => e.name === 'agenda_item_set');
  assert.equal(ai.state.agenda_item_started_at, ai.ts);
  const snap = (await s.api('GET', `/api/rooms/${body.id}`)).json;
  assert.equal(snap.agenda_item_started_at, ai.ts);
  assert.equal(snap.floor.region, 'Western European and other States');
  chair.close();
  fr.close();
});

test('room spec: every new field is validated and names itself; nothing is created', async () => {
  const s = await server();
  const cases = [
    [{ schedule: { starts_at: 1, ends_at: 2, time_zone: 'Mars/Olympus_Mons' } }, 'schedule.time_zone'],
    [{ schedule: { starts_at: 1, ends_at: 2, time_zone: '../../etc/passwd' } }, 'schedule.time_zone'],
    [{ schedule: { starts_at: 1, ends_at: 2, time_zone: 'America' } }, 'schedule.time_zone'],
    [{ schedule: { starts_at: 5, ends_at: 2, time_zone: 'UTC' } }, 'schedule.ends_at'],
    [{ schedule: { starts_at: '11:30', ends_at: 2, time_zone: 'UTC' } }, 'schedule.starts_at'],
    [{ schedule: 'tomorrow' }, 'schedule'],
    [{ status: 'suspended' }, 'status'],
    [{ agenda: [{ id: 'q1', title: 'Q', planned_s: 0 }] }, 'planned_s'],
    [{ agenda: [{ id: 'q1', title: 'Q', planned_s: 86401 }] }, 'planned_s'],
    [{ agenda: [{ id: 'q1', title: 'Q', reserved: 'yes' }] }, 'reserved'],
    [{ settings: { changeover_s: 601 } }, 'changeover_s'],
  ];
  for (const [extra, field] of cases) {
    const body = spec(extra);
    const r = await s.api('POST', '/api/rooms', body);
    assert.equal(r.status, 400, `${JSON.stringify(extra)}: ${r.status} ${r.text}`);
    assert.ok(r.text.includes(field), `${JSON.stringify(extra)}: ${r.text} does not name ${field}`);
    assert.equal((await s.api('GET', `/api/rooms/${body.id}`)).status, 404);
  }
  // Real zones of the database pass, including three-level ones.
  for (const tz of ['Europe/Vienna', 'UTC', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata']) {
    const body = spec({ schedule: { starts_at: 1, ends_at: 2, time_zone: tz } });
    assert.equal((await s.api('POST', '/api/rooms', body)).status, 201, tz);
  }
});

test('set_schedule and set_agenda: events with their state parts, refusals change nothing', async () => {
  const s = await server();
  const body = spec({ status: 'open' });
  await createRoom(s, body);
  const chair = (await enter(s, body.id, 'moderator', 'chair')).c;
  const fr = (await enter(s, body.id, 'delegate', 'fr')).c;

  const sched = { starts_at: body.schedule.starts_at, ends_at: body.schedule.ends_at + 600000, time_zone: 'Europe/Vienna' };
  await refused(fr, { type: 'set_schedule', schedule: sched }, 'forbidden');
  const r = await ok(chair, { type: 'set_schedule', schedule: sched });
  const ev = r.events.find((e) => e.name === 'schedule_changed');
  assert.deepEqual(ev.data, { schedule: sched });
  assert.deepEqual(ev.state, { schedule: sched });
  await refused(chair, { type: 'set_schedule', schedule: { ...sched, time_zone: 'Europe/Atlantis' } }, 'bad_request', 'schedule.time_zone');
  await refused(chair, { type: 'set_schedule', schedule: { ...sched, ends_at: sched.starts_at } }, 'bad_request', 'schedule.ends_at');
  await refused(chair, { type: 'set_schedule', schedule: { ...sched, zone: 'UTC' } }, 'bad_request', 'schedule.zone');
  await refused(chair, { type: 'set_schedule' }, 'bad_request', 'schedule');
  // the same schedule again: ack, no event
  const same = await ok(chair, { type: 'set_schedule', schedule: sched });
  assert.deepEqual(same.events, []);
  const cleared = await ok(chair, { type: 'set_schedule', schedule: null });
  assert.deepEqual(cleared.events[0].state, { schedule: null });

  const agenda = [
    { id: 'q1', title: 'First guiding question', planned_s: 1200 },
    { id: 'q3', title: 'A new question' },
    { id: 'usg', title: 'Conclusions of the Under-Secretary-General', planned_s: 900, reserved: true },
  ];
  const a = await ok(chair, { type: 'set_agenda', agenda });
  const ae = a.events.find((e) => e.name === 'agenda_changed');
  assert.deepEqual(ae.data, { agenda });
  assert.deepEqual(ae.state, { agenda });
  await refused(chair, { type: 'set_agenda', agenda: [{ id: 'q2', title: 'Q' }] }, 'conflict');
  await refused(chair, { type: 'set_agenda', agenda: [{ id: 'q1', title: 'Q', planned_s: -1 }] }, 'bad_request', 'planned_s');
  await refused(chair, { type: 'set_agenda', agenda: 'q1' }, 'bad_request', 'agenda');
  await refused(fr, { type: 'set_agenda', agenda }, 'forbidden');

  const u = await ok(chair, { type: 'update_settings', settings: { changeover_s: 0 } });
  assert.equal(u.events[0].state.settings.changeover_s, 0);
  await refused(chair, { type: 'update_settings', settings: { changeover_s: 601 } }, 'bad_request', 'changeover_s');

  const snap = (await s.api('GET', `/api/rooms/${body.id}`)).json;
  assert.deepEqual(snap.agenda, agenda);
  assert.equal(snap.schedule, null);
  assert.equal(snap.settings.changeover_s, 0);
  chair.close();
  fr.close();
});

test('the token API and the region claim', async () => {
  const s = await server();
  const body = spec({ status: 'open' });
  await createRoom(s, body);
  const ok1 = await s.api('POST', `/api/rooms/${body.id}/tokens`, { sub: 'ke', name: 'Kenya', role: 'delegate', region: 'African States' });
  assert.equal(ok1.status, 201, ok1.text);
  assert.equal(decodeToken(ok1.json.token).region, 'African States');
  const { welcome } = await join(s, ok1.json.token);
  assert.equal(welcome.you.region, 'African States');
  const none = await s.api('POST', `/api/rooms/${body.id}/tokens`, { sub: 'x', name: 'X', role: 'delegate', region: null });
  assert.equal(none.status, 201);
  assert.equal(decodeToken(none.json.token).region, undefined);
  for (const region of ['', 'x'.repeat(41), 7, 'two\nlines']) {
    const r = await s.api('POST', `/api/rooms/${body.id}/tokens`, { sub: 'y', name: 'Y', role: 'delegate', region });
    assert.equal(r.status, 400, JSON.stringify(region));
    assert.match(r.text, /region/);
  }
  // A token with a bad region claim is refused at join.
  const bad = await join(s, { sub: 'z', name: 'Z', room: body.id, role: 'delegate', region: '' });
  assert.equal(bad.welcome.type, 'error');
  assert.equal(bad.welcome.code, 'unauthorized');
});

test('schedule, timed agenda, item start and regions survive a restart', async () => {
  const s1 = await server();
  const body = spec();
  await createRoom(s1, body);
  const chair = (await enter(s1, body.id, 'moderator', 'chair')).c;
  const ke = (await enter(s1, body.id, 'delegate', 'ke', { delegation: 'Kenya', region: 'African States' })).c;
  await ok(ke, { type: 'request_floor' });
  const open = await ok(chair, { type: 'set_status', status: 'open' });
  const started = open.events[0].state.agenda_item_started_at;
  await ok(chair, { type: 'grant' });
  await ok(chair, { type: 'end_floor' });
  await ok(ke, { type: 'request_floor' });
  chair.close();
  ke.close();
  const before = (await s1.api('GET', `/api/rooms/${body.id}`)).json;
  await s1.stop('SIGTERM');
  const s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey });
  servers.push(s2);
  const after = (await s2.api('GET', `/api/rooms/${body.id}`)).json;
  assert.deepEqual(after.schedule, body.schedule);
  assert.deepEqual(after.agenda, before.agenda);
  assert.equal(after.agenda_item_started_at, started);
  assert.equal(after.settings.changeover_s, 20);
  assert.equal(after.queue[0].region, 'African States');
  assert.equal(after.participants.find((p) => p.sub === 'ke').region, 'African States');
  const { w } = await enter(s2, body.id, 'observer', 'obs');
  assert.equal(w.participants.find((p) => p.sub === 'ke').region, 'African States');
  assert.equal(w.room.agenda_item_started_at, started);
  await stopChecked(s2);
});

test('the record: planned against actual per item, who spoke, turns and time per region and category', async () => {
  const s = await server();
  const body = spec();
  await createRoom(s, body);
  const chair = (await enter(s, body.id, 'moderator', 'chair')).c;
  const ke = (await enter(s, body.id, 'delegate', 'ke', { delegation: 'Kenya', category: 'member_state', region: 'African States' })).c;
  const ngo = (await enter(s, body.id, 'delegate', 'ngo', { delegation: 'Global NGO', category: 'civil_society', region: 'African States' })).c;
  const fr = (await enter(s, body.id, 'delegate', 'fr', { delegation: 'France', category: 'member_state', region: 'Western European and other States' })).c;
  await ok(ke, { type: 'request_floor' });
  await ok(fr, { type: 'request_floor' });
  await ok(chair, { type: 'set_status', status: 'open' });
  await ok(chair, { type: 'grant' });
  await ok(ke, { type: 'yield' });
  await ok(chair, { type: 'grant' });
  await ok(fr, { type: 'yield' });
  await ok(chair, { type: 'set_agenda_item', item: 'q2' });
  await ok(ngo, { type: 'request_floor' });
  await ok(chair, { type: 'grant' });
  await ok(chair, { type: 'end_floor' });

  const json = (await s.api('GET', `/api/rooms/${body.id}/transcript?format=json`)).json;
  assert.deepEqual(json.agenda.map((i) => [i.id, i.planned_s, i.reserved, i.speakers.map((p) => p.sub)]),
    [['q1', 1800, false, ['ke', 'fr']], ['q2', 1800, false, ['ngo']], ['usg', 900, true, []]]);
  assert.ok(json.agenda[0].actual_ms >= 0 && json.agenda[0].periods[0].ended_at !== null);
  assert.equal(json.agenda[1].ongoing, true);
  assert.equal(json.agenda[2].actual_ms, null);
  assert.deepEqual(json.agenda[0].regions.map((r) => [r.region, r.turns]),
    [['African States', 1], ['Western European and other States', 1]]);
  assert.deepEqual(json.regions.map((r) => [r.region, r.turns]),
    [['African States', 2], ['Western European and other States', 1]]);
  assert.deepEqual(json.categories.map((r) => [r.category, r.turns]), [['member_state', 2], ['civil_society', 1]]);
  const spoken = json.regions.reduce((a, r) => a + r.spoken_ms, 0);
  assert.equal(spoken, json.speakers.reduce((a, r) => a + r.spoken_ms, 0));
  assert.deepEqual(json.schedule, body.schedule);

  const md = (await s.api('GET', `/api/rooms/${body.id}/transcript?format=md`)).text;
  assert.match(md, /## Agenda items: planned and actual/);
  assert.match(md, /\| First guiding question \(`q1`\) \| 30:00 \| \d+:\d\d \| Kenya \(1, \d+:\d\d\); France \(1, \d+:\d\d\) \|/);
  assert.match(md, /\| Conclusions of the Under-Secretary-General \(`usg`, reserved\) \| 15:00 \| not taken up \| — \|/);
  assert.match(md, /\| African States \| all items \| 2 \| \d+:\d\d \|/);
  assert.match(md, /\| Civil society \| q2 \| 1 \| \d+:\d\d \|/);
  const csv = (await s.api('GET', `/api/rooms/${body.id}/transcript?format=csv`)).text;
  assert.match(csv, /\r\n,[^,]*,item_summary,,,,,item=q1 planned_s=1800 actual_s=\d+ reserved=no speakers=ke;fr,\r\n/);
  assert.match(csv, /\r\n,,region_summary,,,,,item=\* region=African States turns=2 spoken_ms=\d+,\r\n/);
  for (const c of [chair, ke, ngo, fr]) c.close();
});
