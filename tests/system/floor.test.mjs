// Contract sections 4 and 5: the speakers queue and the floor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, enter, sleep, stopChecked } from '../lib/harness.mjs';
import { meeting as meetingIn, stateKeys, hasKeys } from '../lib/meeting.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const REQUEST_KEYS = ['id', 'sub', 'name', 'delegation', 'category', 'region', 'kind', 'lang', 'at'];
const FLOOR_KEYS = ['sub', 'name', 'delegation', 'region', 'kind', 'request_id', 'limit_s', 'started_at', 'elapsed_ms', 'paused', 'time_up'];
const meeting = (...args) => meetingIn(server, ...args);

test('request_floor: floor_requested with the request and the new queue, to everyone', async () => {
  const mt = await meeting({}, [['fr', { delegation: 'France', category: 'member_state' }], ['ngo', {}]]);
  const { reply, events } = await mt.ok(mt.d.fr, { type: 'request_floor', lang: 'fr' });
  const ev = events.at(-1);
  assert.equal(ev.type, 'event');
  assert.equal(ev.name, 'floor_requested');
  assert.equal(ev.seq, reply.seq);
  assert.equal(ev.actor, 'fr');
  assert.equal(typeof ev.ts, 'number');
  const req = ev.data.request;
  hasKeys(req, REQUEST_KEYS, 'request');
  assert.equal(typeof req.id, 'string');
  assert.equal(req.sub, 'fr');
  assert.equal(req.name, 'Delegate fr');
  assert.equal(req.delegation, 'France');
  assert.equal(req.category, 'member_state');
  assert.equal(req.kind, 'speech');
  assert.equal(req.lang, 'fr');
  assert.equal(typeof req.at, 'number');
  assert.ok(Math.abs(req.at - ev.ts) < 5000);
  assert.deepEqual(stateKeys(ev), ['queue']);
  assert.deepEqual(ev.state.queue, [req]);
  // The moderator and the other delegate get the same event.
  assert.deepEqual(await mt.m.waitEvent('floor_requested'), ev);
  assert.deepEqual(await mt.d.ngo.waitEvent('floor_requested'), ev);
  // No lang, no delegation, no category: nulls.
  const r2 = await mt.ok(mt.d.ngo, { type: 'request_floor' });
  const req2 = r2.events.at(-1).data.request;
  assert.equal(req2.lang, null);
  assert.equal(req2.delegation, null);
  assert.equal(req2.category, null);
  assert.notEqual(req2.id, req.id);
  assert.deepEqual(r2.events.at(-1).state.queue, [req, req2]);
  assert.deepEqual(await mt.queue(), [req, req2]);
  // A moderator may ask for the floor too.
  const r3 = await mt.ok(mt.m, { type: 'request_floor' });
  assert.equal(r3.events.at(-1).data.request.sub, 'chair');
  mt.checkSeqs();
  mt.close();
});

test('request_floor: conflict for a second pending request of the same kind only', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.refused(mt.d.fr, { type: 'request_floor' }, 'conflict');
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'speech' }, 'conflict');
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' });
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'reply' }, 'conflict');
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'point_of_order' });
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'point_of_order' }, 'conflict');
  assert.equal((await mt.queue()).length, 3);
  // Another connection of the same participant is the same participant.
  const tab2 = (await enter(server, mt.room.id, 'delegate', 'fr', { name: 'Delegate fr' })).c;
  await mt.refused(tab2, { type: 'request_floor' }, 'conflict');
  tab2.close();
  mt.close();
});

test('queue order: points of order first, speeches in order, replies at the end', async () => {
  const people = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'].map((s) => [s, {}]);
  const mt = await meeting({}, people);
  const steps = [['d1', 'speech'], ['d2', 'speech'], ['d3', 'reply'], ['d4', 'point_of_order'], ['d5', 'speech'],
    ['d6', 'point_of_order'], ['d7', 'reply']];
  let last;
  for (const [sub, kind] of steps) last = await mt.ok(mt.d[sub], { type: 'request_floor', kind });
  const expected = ['d4', 'd6', 'd1', 'd2', 'd5', 'd3', 'd7'];
  assert.deepEqual(last.events.at(-1).state.queue.map((r) => r.sub), expected);
  assert.deepEqual((await mt.queue()).map((r) => r.sub), expected);
  assert.deepEqual((await mt.queue()).map((r) => r.kind),
    ['point_of_order', 'point_of_order', 'speech', 'speech', 'speech', 'reply', 'reply']);
  // grant with no argument takes the head: the first point of order.
  const g = await mt.ok(mt.m, { type: 'grant' });
  assert.equal(g.events.at(-1).data.floor.sub, 'd4');
  assert.equal(g.events.at(-1).data.floor.kind, 'point_of_order');
  await mt.ok(mt.m, { type: 'end_floor' });
  mt.close();
});

test('queue order "category": speeches by UN order of precedence, then by time', async () => {
  const people = [['cs', { category: 'civil_society' }], ['ms1', { category: 'member_state' }], ['org', { category: 'organization' }],
    ['none', {}], ['os', { category: 'observer_state' }], ['ms2', { category: 'member_state' }], ['un', { category: 'un_entity' }],
    ['oth', { category: 'other' }]];
  const mt = await meeting({ queue_order: 'category' }, people);
  for (const [sub] of people) await mt.ok(mt.d[sub], { type: 'request_floor' });
  assert.deepEqual((await mt.queue()).map((r) => r.sub), ['ms1', 'ms2', 'os', 'org', 'un', 'cs', 'oth', 'none']);
  await mt.ok(mt.d.cs, { type: 'request_floor', kind: 'reply' });
  await mt.ok(mt.d.none, { type: 'request_floor', kind: 'point_of_order' });
  const q = await mt.queue();
  assert.deepEqual(q.map((r) => `${r.sub}:${r.kind}`), ['none:point_of_order', 'ms1:speech', 'ms2:speech', 'os:speech',
    'org:speech', 'un:speech', 'cs:speech', 'oth:speech', 'none:speech', 'cs:reply']);
  // A moderator's move overrides the order.
  const none = q.find((r) => r.sub === 'none' && r.kind === 'speech');
  const mv = await mt.ok(mt.m, { type: 'move', request_id: none.id, to: 1 });
  assert.equal(mv.events.at(-1).state.queue[1].id, none.id);
  mt.close();
});

test('queue order "request" ignores categories', async () => {
  const mt = await meeting({}, [['cs', { category: 'civil_society' }], ['ms', { category: 'member_state' }]]);
  await mt.ok(mt.d.cs, { type: 'request_floor' });
  await mt.ok(mt.d.ms, { type: 'request_floor' });
  assert.deepEqual((await mt.queue()).map((r) => r.sub), ['cs', 'ms']);
  mt.close();
});

test('close_list / open_list: list_closed for speeches only while closed', async () => {
  const mt = await meeting({});
  const cl = await mt.ok(mt.m, { type: 'close_list' });
  const ev = cl.events.at(-1);
  assert.equal(ev.name, 'list_closed');
  assert.deepEqual(ev.data, {});
  assert.deepEqual(stateKeys(ev), ['settings']);
  assert.equal(ev.state.settings.list_open, false);
  assert.equal(ev.state.settings.speech_s, 180, 'state.settings is the whole settings object');
  await mt.refused(mt.d.fr, { type: 'request_floor' }, 'list_closed');
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'speech' }, 'list_closed');
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'point_of_order' });
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' });
  assert.equal((await mt.snapshot()).settings.list_open, false);
  const op = await mt.ok(mt.m, { type: 'open_list' });
  assert.equal(op.events.at(-1).name, 'list_opened');
  assert.equal(op.events.at(-1).state.settings.list_open, true);
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  mt.close();
});

test('replies_per_item: quota_exceeded beyond it on the current agenda item; a new item resets it', async () => {
  const mt = await meeting({ replies_per_item: 1 });
  await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q2' });
  const r = await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' });
  const g = await mt.ok(mt.m, { type: 'grant', request_id: r.events.at(-1).data.request.id });
  assert.equal(g.events.at(-1).data.floor.kind, 'reply');
  await mt.ok(mt.d.fr, { type: 'yield' });
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'reply' }, 'quota_exceeded');
  // Others have their own quota; speeches are not limited.
  await mt.ok(mt.d.de, { type: 'request_floor', kind: 'reply' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q1' });
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' });
  mt.close();
  const none = await meeting({ replies_per_item: 0 });
  await none.refused(none.d.fr, { type: 'request_floor', kind: 'reply' }, 'quota_exceeded');
  await none.ok(none.d.fr, { type: 'request_floor', kind: 'point_of_order' });
  none.close();
});

test('withdraw: own request only; not_found otherwise', async () => {
  const mt = await meeting({});
  const a = (await mt.ok(mt.d.fr, { type: 'request_floor' })).events.at(-1).data.request;
  const b = (await mt.ok(mt.d.de, { type: 'request_floor' })).events.at(-1).data.request;
  await mt.refused(mt.d.de, { type: 'withdraw', request_id: a.id }, 'not_found');
  await mt.refused(mt.d.fr, { type: 'withdraw', request_id: 'r999999' }, 'not_found');
  const w = await mt.ok(mt.d.fr, { type: 'withdraw', request_id: a.id });
  const ev = w.events.at(-1);
  assert.equal(ev.name, 'request_withdrawn');
  assert.deepEqual(ev.data, { request_id: a.id });
  assert.deepEqual(stateKeys(ev), ['queue']);
  assert.deepEqual(ev.state.queue, [b]);
  await mt.refused(mt.d.fr, { type: 'withdraw', request_id: a.id }, 'not_found');
  assert.deepEqual(await mt.m.waitEvent('request_withdrawn'), ev);
  // Withdrawn, the same kind may be asked for again.
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  mt.close();
});

test('grant: head of the queue; floor_granted with the floor and the queue', async () => {
  const mt = await meeting({ speech_s: 120 });
  const a = (await mt.ok(mt.d.fr, { type: 'request_floor', lang: 'es' })).events.at(-1).data.request;
  const b = (await mt.ok(mt.d.de, { type: 'request_floor' })).events.at(-1).data.request;
  const t0 = Date.now();
  const { reply, events } = await mt.ok(mt.m, { type: 'grant' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'floor_granted');
  assert.equal(ev.seq, reply.seq);
  assert.equal(ev.actor, 'chair');
  const f = ev.data.floor;
  hasKeys(f, FLOOR_KEYS, 'floor');
  assert.equal(f.sub, 'fr');
  assert.equal(f.name, 'Delegate fr');
  assert.equal(f.delegation, 'France');
  assert.equal(f.kind, 'speech');
  assert.equal(f.request_id, a.id);
  assert.equal(f.limit_s, 120);
  assert.equal(f.elapsed_ms, 0);
  assert.equal(f.paused, false);
  assert.equal(f.time_up, false);
  assert.ok(Math.abs(f.started_at - t0) < 5000, `started_at ${f.started_at}`);
  assert.deepEqual(stateKeys(ev), ['floor', 'queue']);
  assert.deepEqual(ev.state.floor, f);
  assert.deepEqual(ev.state.queue, [b]);
  assert.deepEqual(await mt.d.fr.waitEvent('floor_granted'), ev);
  const snap = await mt.snapshot();
  assert.equal(snap.floor.sub, 'fr');
  assert.equal(snap.floor.request_id, a.id);
  // A granted request is no longer the requester's to withdraw.
  await mt.refused(mt.d.fr, { type: 'withdraw', request_id: a.id }, 'not_found');
  mt.close();
});

test('grant: by request_id and by sub; not_found for an empty queue or an unknown id', async () => {
  const mt = await meeting({}, [['fr', {}], ['de', {}], ['it', { delegation: 'Italy' }]]);
  await mt.refused(mt.m, { type: 'grant' }, 'not_found');
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const b = (await mt.ok(mt.d.de, { type: 'request_floor', kind: 'reply' })).events.at(-1).data.request;
  await mt.refused(mt.m, { type: 'grant', request_id: 'r424242' }, 'not_found');
  await mt.refused(mt.m, { type: 'grant', sub: 'nobody-here' }, 'not_found');
  let g = await mt.ok(mt.m, { type: 'grant', request_id: b.id });
  assert.equal(g.events.at(-1).data.floor.sub, 'de');
  assert.equal(g.events.at(-1).data.floor.kind, 'reply');
  assert.equal(g.events.at(-1).data.floor.limit_s, 60);
  assert.deepEqual(g.events.at(-1).state.queue.map((r) => r.sub), ['fr']);
  g = await mt.ok(mt.m, { type: 'grant', sub: 'it' });
  const f = g.events.at(-1).data.floor;
  assert.equal(f.sub, 'it');
  assert.equal(f.name, 'Delegate it');
  assert.equal(f.delegation, 'Italy');
  assert.equal(f.request_id, null);
  assert.equal(f.kind, 'speech');
  assert.equal(f.limit_s, 180);
  assert.deepEqual(g.events.at(-1).state.queue.map((r) => r.sub), ['fr']);
  mt.close();
});

test('grant by sub: that person\'s first waiting request is granted and leaves the queue', async () => {
  const mt = await meeting({}, [['fr', {}], ['de', {}]]);
  const a = (await mt.ok(mt.d.fr, { type: 'request_floor' })).events.at(-1).data.request;
  const b = (await mt.ok(mt.d.de, { type: 'request_floor' })).events.at(-1).data.request;
  const c = (await mt.ok(mt.d.de, { type: 'request_floor', kind: 'point_of_order' })).events.at(-1).data.request;
  // The queue is [c (point of order), a, b]; de's first request is c.
  assert.deepEqual((await mt.queue()).map((r) => r.id), [c.id, a.id, b.id]);
  let g = await mt.ok(mt.m, { type: 'grant', sub: 'de' });
  let f = g.events.at(-1).data.floor;
  assert.equal(f.sub, 'de');
  assert.equal(f.request_id, c.id);
  assert.equal(f.kind, 'point_of_order');
  assert.deepEqual(g.events.at(-1).state.queue.map((r) => r.id), [a.id, b.id]);
  g = await mt.ok(mt.m, { type: 'grant', sub: 'de' });
  f = g.events.at(-1).data.floor;
  assert.equal(f.request_id, b.id);
  assert.deepEqual(g.events.at(-1).state.queue.map((r) => r.id), [a.id]);
  // The next grant of the head goes to the next person, not de again.
  g = await mt.ok(mt.m, { type: 'grant' });
  assert.equal(g.events.at(-1).data.floor.sub, 'fr');
  assert.deepEqual(await mt.queue(), []);
  await mt.refused(mt.m, { type: 'grant' }, 'not_found');
  mt.checkSeqs();
  mt.close();
});

test('replies_per_item counts replies pending or granted: withdrawn and removed ones give the right back', async () => {
  const mt = await meeting({ replies_per_item: 1 });
  for (let i = 0; i < 3; i++) {
    const r = (await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' })).events.at(-1).data.request;
    await mt.ok(mt.d.fr, { type: 'withdraw', request_id: r.id });
  }
  const r = (await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' })).events.at(-1).data.request;
  await mt.ok(mt.m, { type: 'remove_request', request_id: r.id });
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'reply' });
  await mt.ok(mt.m, { type: 'grant', sub: 'fr' });
  await mt.ok(mt.d.fr, { type: 'yield' });
  await mt.refused(mt.d.fr, { type: 'request_floor', kind: 'reply' }, 'quota_exceeded');
  mt.close();
});

test('grant while someone holds the floor: floor_ended superseded, then floor_granted', async () => {
  const mt = await meeting({});
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await sleep(150); // fr speaks a little
  const { reply, events } = await mt.ok(mt.m, { type: 'grant' });
  assert.deepEqual(events.map((e) => e.name), ['floor_ended', 'floor_granted']);
  const [ended, granted] = events;
  assert.equal(granted.seq, ended.seq + 1);
  assert.equal(reply.seq, granted.seq, 'the ack carries the seq of the last event');
  assert.equal(ended.data.sub, 'fr');
  assert.equal(ended.data.reason, 'superseded');
  assert.ok(ended.data.spoken_ms >= 100 && ended.data.spoken_ms < 5000, `spoken_ms ${ended.data.spoken_ms}`);
  assert.deepEqual(stateKeys(ended), ['floor', 'stats']);
  assert.equal(ended.state.floor, null);
  assert.equal(ended.state.stats.fr.turns, 1);
  assert.equal(granted.data.floor.sub, 'de');
  // fr sees both, in order.
  const e1 = await mt.d.fr.waitEvent('floor_ended');
  const e2 = await mt.d.fr.waitEvent('floor_granted', (e) => e.data.floor.sub === 'de');
  assert.equal(e2.seq, e1.seq + 1);
  mt.close();
});

test('limit_s comes from the settings by kind', async () => {
  const mt = await meeting({ speech_s: 100, reply_s: 50, point_of_order_s: 20 }, [['a', {}], ['b', {}], ['c', {}]]);
  await mt.ok(mt.d.a, { type: 'request_floor', kind: 'reply' });
  await mt.ok(mt.d.b, { type: 'request_floor' });
  await mt.ok(mt.d.c, { type: 'request_floor', kind: 'point_of_order' });
  const limits = [];
  for (let i = 0; i < 3; i++) {
    const f = (await mt.ok(mt.m, { type: 'grant' })).events.at(-1).data.floor;
    limits.push(`${f.sub}:${f.kind}:${f.limit_s}`);
  }
  assert.deepEqual(limits, ['c:point_of_order:20', 'b:speech:100', 'a:reply:50']);
  mt.close();
});

test('yield: the holder ends their floor (yielded); others cannot', async () => {
  const mt = await meeting({});
  await mt.refused(mt.d.fr, { type: 'yield' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.refused(mt.d.de, { type: 'yield' });
  await mt.refused(mt.m, { type: 'yield' });
  const { events } = await mt.ok(mt.d.fr, { type: 'yield' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'floor_ended');
  assert.equal(ev.actor, 'fr');
  assert.equal(ev.data.sub, 'fr');
  assert.equal(ev.data.reason, 'yielded');
  assert.equal(typeof ev.data.spoken_ms, 'number');
  assert.deepEqual(stateKeys(ev), ['floor', 'stats']);
  assert.equal(ev.state.floor, null);
  assert.deepEqual(ev.state.stats.fr, { turns: 1, spoken_ms: ev.data.spoken_ms });
  assert.equal((await mt.snapshot()).floor, null);
  await mt.refused(mt.d.fr, { type: 'yield' });
  mt.close();
});

test('end_floor: reason moderator; refused with no floor', async () => {
  const mt = await meeting({});
  await mt.refused(mt.m, { type: 'end_floor' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  const { events } = await mt.ok(mt.m, { type: 'end_floor' });
  const ev = events.at(-1);
  assert.equal(ev.name, 'floor_ended');
  assert.equal(ev.actor, 'chair');
  assert.equal(ev.data.sub, 'fr');
  assert.equal(ev.data.reason, 'moderator');
  assert.equal(ev.state.floor, null);
  assert.equal((await mt.d.fr.waitEvent('floor_ended')).seq, ev.seq);
  mt.close();
});

test('pause and resume: the clock stops and restarts; spoken time excludes the pause', async () => {
  const mt = await meeting({});
  await mt.refused(mt.m, { type: 'pause' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const g = (await mt.ok(mt.m, { type: 'grant' })).events.at(-1);
  await sleep(300);
  const p = (await mt.ok(mt.m, { type: 'pause' })).events.at(-1);
  assert.equal(p.name, 'timer_paused');
  assert.equal(p.actor, 'chair');
  assert.deepEqual(p.data, {});
  assert.deepEqual(stateKeys(p), ['floor']);
  assert.equal(p.state.floor.paused, true);
  assert.equal(p.state.floor.sub, 'fr');
  assert.ok(p.state.floor.elapsed_ms >= 280 && p.state.floor.elapsed_ms < 3000, `elapsed_ms ${p.state.floor.elapsed_ms}`);
  await sleep(1000);
  const r = (await mt.ok(mt.m, { type: 'resume' })).events.at(-1);
  assert.equal(r.name, 'timer_resumed');
  assert.deepEqual(r.data, {});
  assert.deepEqual(stateKeys(r), ['floor']);
  assert.equal(r.state.floor.paused, false);
  assert.equal(r.state.floor.elapsed_ms, p.state.floor.elapsed_ms, 'elapsed_ms is kept across the pause');
  assert.ok(r.state.floor.started_at >= g.data.floor.started_at + 1200, 'started_at is the time of the restart');
  assert.ok(Math.abs(r.state.floor.started_at - r.ts) < 1000);
  await sleep(300);
  const e = (await mt.ok(mt.d.fr, { type: 'yield' })).events.at(-1);
  assert.ok(e.data.spoken_ms >= 550 && e.data.spoken_ms < 1500,
    `spoken_ms ${e.data.spoken_ms}: about 600 expected, the 1000 ms pause excluded`);
  assert.equal(e.state.stats.fr.spoken_ms, e.data.spoken_ms);
  mt.close();
});

test('extend: time_extended adds to limit_s; 1..3600', async () => {
  const mt = await meeting({ speech_s: 60 });
  await mt.refused(mt.m, { type: 'extend', seconds: 30 });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  const ev = (await mt.ok(mt.m, { type: 'extend', seconds: 30 })).events.at(-1);
  assert.equal(ev.name, 'time_extended');
  assert.deepEqual(ev.data, { seconds: 30 });
  assert.deepEqual(stateKeys(ev), ['floor']);
  assert.equal(ev.state.floor.limit_s, 90);
  await mt.ok(mt.m, { type: 'extend', seconds: 1 });
  await mt.ok(mt.m, { type: 'extend', seconds: 3600 });
  assert.equal((await mt.snapshot()).floor.limit_s, 3691);
  await mt.refused(mt.m, { type: 'extend', seconds: 0 }, 'bad_request');
  await mt.refused(mt.m, { type: 'extend', seconds: 3601 }, 'bad_request');
  await mt.refused(mt.m, { type: 'extend', seconds: -5 }, 'bad_request');
  await mt.refused(mt.m, { type: 'extend', seconds: 1.5 }, 'bad_request');
  mt.close();
});

test('move: reorders the queue; to is clamped; not_found for an unknown request', async () => {
  const mt = await meeting({}, [['a', {}], ['b', {}], ['c', {}]]);
  const ids = {};
  for (const s of ['a', 'b', 'c']) ids[s] = (await mt.ok(mt.d[s], { type: 'request_floor' })).events.at(-1).data.request.id;
  let ev = (await mt.ok(mt.m, { type: 'move', request_id: ids.c, to: 0 })).events.at(-1);
  assert.equal(ev.name, 'request_moved');
  assert.deepEqual(ev.data, { request_id: ids.c, to: 0 });
  assert.deepEqual(stateKeys(ev), ['queue']);
  assert.deepEqual(ev.state.queue.map((r) => r.sub), ['c', 'a', 'b']);
  ev = (await mt.ok(mt.m, { type: 'move', request_id: ids.c, to: 99 })).events.at(-1);
  assert.deepEqual(ev.state.queue.map((r) => r.sub), ['a', 'b', 'c']);
  assert.equal(ev.data.request_id, ids.c);
  ev = (await mt.ok(mt.m, { type: 'move', request_id: ids.b, to: 0 })).events.at(-1);
  assert.deepEqual(ev.state.queue.map((r) => r.sub), ['b', 'a', 'c']);
  await mt.refused(mt.m, { type: 'move', request_id: 'r31337', to: 0 }, 'not_found');
  assert.deepEqual((await mt.queue()).map((r) => r.sub), ['b', 'a', 'c']);
  // The head after a move is what grant takes.
  assert.equal((await mt.ok(mt.m, { type: 'grant' })).events.at(-1).data.floor.sub, 'b');
  mt.close();
});

test('remove_request: request_removed; not_found for an unknown request', async () => {
  const mt = await meeting({});
  const a = (await mt.ok(mt.d.fr, { type: 'request_floor' })).events.at(-1).data.request;
  const b = (await mt.ok(mt.d.de, { type: 'request_floor' })).events.at(-1).data.request;
  const ev = (await mt.ok(mt.m, { type: 'remove_request', request_id: a.id })).events.at(-1);
  assert.equal(ev.name, 'request_removed');
  assert.equal(ev.actor, 'chair');
  assert.deepEqual(ev.data, { request_id: a.id });
  assert.deepEqual(stateKeys(ev), ['queue']);
  assert.deepEqual(ev.state.queue, [b]);
  assert.deepEqual(await mt.d.fr.waitEvent('request_removed'), ev);
  await mt.refused(mt.m, { type: 'remove_request', request_id: a.id }, 'not_found');
  // Removed, fr may ask again.
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  mt.close();
});

test('time_up: exactly once, within a second of the limit, on the real clock (notify)', async () => {
  const mt = await meeting({ speech_s: 1 });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const at = mt.m.mark();
  const g = (await mt.ok(mt.m, { type: 'grant' })).events.at(-1);
  const start = g.data.floor.started_at;
  const tu = await mt.m.waitEvent('time_up', () => true, 4000, at);
  assert.equal(tu.actor, null);
  assert.deepEqual(tu.data, { sub: 'fr' });
  assert.deepEqual(stateKeys(tu), ['floor']);
  assert.equal(tu.state.floor.time_up, true);
  assert.equal(tu.state.floor.sub, 'fr');
  assert.ok(tu.ts >= start + 1000 - 2, `time_up at +${tu.ts - start} ms, before the 1 s limit`);
  assert.ok(tu.ts <= start + 2000 + 250, `time_up at +${tu.ts - start} ms, more than a second after the limit`);
  // Everyone gets it; the floor stays (notify); never a second one.
  await mt.d.fr.waitEvent('time_up');
  await sleep(2000);
  await mt.m.sync();
  assert.equal(mt.m.eventsSince(at, 'time_up').length, 1, 'time_up more than once');
  assert.equal(mt.m.eventsSince(at, 'floor_ended').length, 0, 'the floor ended with on_time_up notify');
  const snap = await mt.snapshot();
  assert.equal(snap.floor.sub, 'fr');
  assert.equal(snap.floor.time_up, true);
  // A late joiner sees time_up in the floor.
  const late = await enter(server, mt.room.id, 'observer', 'late');
  assert.equal(late.w.room.floor.time_up, true);
  late.c.close();
  await mt.ok(mt.d.fr, { type: 'yield' });
  mt.checkSeqs();
  mt.close();
});

test('time_up with on_time_up "end": floor_ended reason time, actor null', async () => {
  const mt = await meeting({ speech_s: 1, on_time_up: 'end' });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const at = mt.m.mark();
  const g = (await mt.ok(mt.m, { type: 'grant' })).events.at(-1);
  const ev = await mt.m.waitEvent('floor_ended', () => true, 4000, at);
  assert.equal(ev.actor, null);
  assert.equal(ev.data.sub, 'fr');
  assert.equal(ev.data.reason, 'time');
  assert.ok(ev.data.spoken_ms >= 990 && ev.data.spoken_ms <= 2300, `spoken_ms ${ev.data.spoken_ms}`);
  assert.ok(ev.ts >= g.data.floor.started_at + 998 && ev.ts <= g.data.floor.started_at + 2250, `ended at +${ev.ts - g.data.floor.started_at} ms`);
  assert.equal(ev.state.floor, null);
  assert.equal(ev.state.stats.fr.turns, 1);
  await sleep(1200);
  await mt.m.sync();
  assert.equal(mt.m.eventsSince(at, 'floor_ended').length, 1);
  assert.equal(mt.m.eventsSince(at, 'time_up').length, 0, 'time_up with on_time_up "end"');
  assert.equal((await mt.snapshot()).floor, null);
  mt.close();
});

test('time_up waits out a pause and an extension', async () => {
  const mt = await meeting({ speech_s: 1 });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  const at = mt.m.mark();
  const g = (await mt.ok(mt.m, { type: 'grant' })).events.at(-1);
  const ext = (await mt.ok(mt.m, { type: 'extend', seconds: 1 })).events.at(-1);
  assert.equal(ext.state.floor.limit_s, 2);
  await sleep(400);
  const p = (await mt.ok(mt.m, { type: 'pause' })).events.at(-1);
  await sleep(2200);
  await mt.m.sync();
  assert.equal(mt.m.eventsSince(at, 'time_up').length, 0, 'time_up while paused');
  const r = (await mt.ok(mt.m, { type: 'resume' })).events.at(-1);
  const remaining = 2000 - p.state.floor.elapsed_ms;
  const tu = await mt.m.waitEvent('time_up', () => true, 5000, at);
  const after = tu.ts - r.state.floor.started_at;
  assert.ok(after >= remaining - 2 && after <= remaining + 1250, `time_up ${after} ms after resume, ${remaining} ms were left`);
  assert.ok(tu.ts - g.data.floor.started_at >= 2000 + 2000, 'time_up came before limit + pause');
  mt.close();
});

test('pause_on_disconnect: the floor pauses when the holder\'s last connection drops', async () => {
  const mt = await meeting({});
  const tab2 = (await enter(server, mt.room.id, 'delegate', 'fr', { name: 'Delegate fr' })).c;
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  let at = mt.m.mark();
  tab2.close();
  await mt.m.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'fr' && m.participant.connections === 1, 5000, at);
  await mt.m.sync();
  assert.equal(mt.m.eventsSince(at, 'timer_paused').length, 0, 'paused although fr still has a connection');
  at = mt.m.mark();
  mt.d.fr.close();
  const p = await mt.m.waitEvent('timer_paused', () => true, 5000, at);
  assert.equal(p.actor, null);
  assert.equal(p.state.floor.paused, true);
  assert.equal(p.state.floor.sub, 'fr');
  // The moderator resumes it.
  const r = (await mt.ok(mt.m, { type: 'resume' })).events.at(-1);
  assert.equal(r.state.floor.paused, false);
  mt.close();
});

test('pause_on_disconnect false: the floor keeps running', async () => {
  const mt = await meeting({ pause_on_disconnect: false });
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  const at = mt.m.mark();
  mt.d.fr.close();
  await mt.m.waitFor((m) => m.type === 'presence' && m.participant?.sub === 'fr' && m.action === 'leave', 5000, at);
  await mt.m.sync();
  assert.equal(mt.m.eventsSince(at, 'timer_paused').length, 0);
  assert.equal((await mt.snapshot()).floor.paused, false);
  mt.close();
});

test('stats: turns and spoken time per participant, in floor_ended and in the snapshot', async () => {
  const mt = await meeting({});
  let total = 0;
  for (let i = 0; i < 2; i++) {
    await mt.ok(mt.d.fr, { type: 'request_floor' });
    await mt.ok(mt.m, { type: 'grant' });
    await sleep(100);
    total += (await mt.ok(mt.d.fr, { type: 'yield' })).events.at(-1).data.spoken_ms;
  }
  await mt.ok(mt.m, { type: 'grant', sub: 'de' });
  const e = (await mt.ok(mt.m, { type: 'end_floor' })).events.at(-1);
  assert.deepEqual(Object.keys(e.state.stats).sort(), ['de', 'fr']);
  assert.deepEqual(e.state.stats.fr, { turns: 2, spoken_ms: total });
  assert.equal(e.state.stats.de.turns, 1);
  const snap = await mt.snapshot();
  assert.deepEqual(snap.stats, e.state.stats);
  const late = await enter(server, mt.room.id, 'observer', 'late');
  assert.deepEqual(late.w.room.stats, e.state.stats);
  late.c.close();
  mt.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
