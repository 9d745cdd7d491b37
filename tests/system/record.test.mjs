// Contract sections 7 and 8: the meeting record (transcript), the journal in
// --data-dir across restarts, and draining on SIGTERM/SIGINT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, enter, act, join, sleep, stopChecked } from '../lib/harness.mjs';
import { meeting } from '../lib/meeting.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// A short meeting; resolves with the meeting and every event in order.
async function shortMeeting(s) {
  const mt = await meeting(s, { speech_s: 600, pause_on_disconnect: false }, [['fr', { delegation: 'France', name: 'Ambassador Dupont' }], ['de', { delegation: 'Germany', name: 'Botschafterin Weber' }]],
    { title: 'Closing discussion, record test' });
  const at = mt.m.mark();
  await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q2' });
  await mt.ok(mt.d.fr, { type: 'request_floor', lang: 'fr' });
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.d.fr, { type: 'say', text: 'Thank you, Chair; two points, "quoted".' });
  await sleep(50);
  await mt.ok(mt.d.fr, { type: 'yield' });
  await mt.ok(mt.m, { type: 'grant' });
  await mt.ok(mt.m, { type: 'announce', text: 'Five minutes left in this session' });
  await mt.ok(mt.m, { type: 'end_floor' });
  await mt.m.sync();
  return { mt, events: mt.m.eventsSince(at) };
}

const transcript = (s, id, format) => s.api('GET', `/api/rooms/${id}/transcript?format=${format}`);

function eventsOf(j) {
  const evs = Array.isArray(j) ? j : j?.events;
  assert.ok(Array.isArray(evs), `no events array in the JSON transcript: ${JSON.stringify(j).slice(0, 500)}`);
  return evs;
}

test('transcript json: every event in order, and speaking time', async () => {
  const { mt, events } = await shortMeeting(server);
  const res = await transcript(server, mt.room.id, 'json');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /json/);
  const evs = eventsOf(res.json);
  assert.equal(evs.length, events.length);
  assert.deepEqual(evs.map((e) => e.seq), events.map((e) => e.seq));
  assert.deepEqual(evs.map((e) => e.name), events.map((e) => e.name));
  for (let i = 0; i < evs.length; i++) {
    assert.deepEqual(evs[i].data, events[i].data, `event ${evs[i].seq} data`);
    assert.equal(evs[i].ts, events[i].ts);
    assert.equal(evs[i].actor, events[i].actor);
  }
  assert.match(res.text, /spoken_ms/, 'no speaking-time statistics');
  assert.match(res.text, /"fr"/);
  mt.close();
});

test('transcript md: minutes with headings, the speakers and the messages', async () => {
  const { mt } = await shortMeeting(server);
  const res = await transcript(server, mt.room.id, 'md');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /text\/(markdown|plain)/);
  const md = res.text;
  assert.match(md, /^# .+/m, 'no top-level heading');
  assert.match(md, /^#{2,3} .+/m, 'no section headings');
  assert.ok(md.includes('Closing discussion, record test'), 'no room title');
  assert.ok(md.includes('Ambassador Dupont'), 'no speaker name');
  assert.ok(md.includes('Botschafterin Weber'), 'no second speaker name');
  assert.ok(md.includes('France'), 'no delegation');
  assert.ok(md.includes('Five minutes left in this session'), 'no announcement');
  mt.close();
});

// Splits CSV text into rows of fields (RFC 4180: quotes, doubled quotes, CRLF).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') q = false; else field += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('transcript csv: a header and one row per event, then the summary rows', async () => {
  const { mt, events } = await shortMeeting(server);
  const res = await transcript(server, mt.room.id, 'csv');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /text\/csv/);
  // One row per event after the header; after them, rows of other kinds
  // (the attendance, the chain: section 9.5, 9.6) have no seq.
  const all = parseCsv(res.text);
  const rows = all.filter((r, i) => i === 0 || r[0] !== '');
  // version 1.1: item, region and category summaries are among those
  const summary = all.filter((r) => /^(item|region|category)_summary$/.test(r[2]));
  assert.ok(summary.some((r) => r[2] === 'item_summary'), res.text);
  assert.ok(summary.every((r) => r[0] === ''), 'summary rows have no seq');
  assert.equal(rows.length, events.length + 1, res.text);
  assert.ok(all.some((r) => r[2] === 'chain'), 'no chain row');
  const header = rows[0].map((h) => h.toLowerCase());
  assert.ok(header.length >= 3, `header ${rows[0]}`);
  assert.ok(header.includes('seq'), `no seq column: ${rows[0]}`);
  for (const r of rows) assert.equal(r.length, header.length, `row ${JSON.stringify(r)} has another width than the header`);
  const seqCol = header.indexOf('seq');
  for (let i = 0; i < events.length; i++) {
    assert.equal(Number(rows[i + 1][seqCol]), events[i].seq);
    assert.ok(rows[i + 1].includes(events[i].name), `row ${i + 1} does not name ${events[i].name}: ${rows[i + 1]}`);
  }
  assert.ok(rows.some((r) => r.some((f) => f.includes('Thank you, Chair; two points, "quoted".'))), 'the chat text is not in a field as said');
  mt.close();
});

test('transcript: 400 for an unknown format, 404 for an unknown room', async () => {
  const { mt } = await shortMeeting(server);
  assert.equal((await transcript(server, mt.room.id, 'xml')).status, 400);
  assert.equal((await transcript(server, `no-such-room-${process.pid}`, 'json')).status, 404);
  mt.close();
});

test('SIGTERM drains: clients get close 1001, exit code 0; a restart on the data dir keeps everything', async (t) => {
  const s1 = await startServer();
  let s2;
  t.after(async () => { await stopChecked(s1); if (s2) await stopChecked(s2); });
  const { mt, events } = await shortMeeting(s1);
  // Leave a queue, a running floor, a mute, and a closed second room.
  await mt.ok(mt.d.de, { type: 'request_floor' });
  await mt.ok(mt.d.fr, { type: 'request_floor', kind: 'point_of_order' });
  await mt.ok(mt.m, { type: 'grant', sub: 'fr' });
  await mt.ok(mt.m, { type: 'mute', sub: 'de' });
  await mt.m.sync();
  const gone = await enter(s1, mt.room.id, 'delegate', 'gone');
  await mt.ok(mt.m, { type: 'remove', sub: 'gone' });
  assert.equal((await gone.c.waitClose()).code, 4403);
  await mt.ok(mt.m, { type: 'set_role', sub: 'de', role: 'observer' });
  const closed = await meeting(s1, {}, []);
  await closed.ok(closed.m, { type: 'set_status', status: 'closed' });
  const seq = mt.m.lastSeq;
  const epoch = mt.m.log.find((m) => m.type === 'welcome').epoch;
  const before = (await s1.api('GET', `/api/rooms/${mt.room.id}`)).json;
  const recordBefore = eventsOf((await transcript(s1, mt.room.id, 'json')).json);
  assert.ok(recordBefore.length > events.length);
  const closes = Promise.all([...mt.all, ...closed.all].map((c) => c.waitClose(10000)));
  const exit = await s1.stop('SIGTERM');
  assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}\n${s1.log}`);
  for (const cl of await closes) assert.equal(cl.code, 1001);

  s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey });
  const after = (await s2.api('GET', `/api/rooms/${mt.room.id}`)).json;
  for (const k of ['id', 'title', 'status', 'agenda', 'agenda_item', 'settings', 'queue', 'muted', 'stats']) {
    assert.deepEqual(after[k], before[k], `${k} after restart`);
  }
  for (const k of ['sub', 'name', 'delegation', 'kind', 'request_id', 'limit_s']) assert.deepEqual(after.floor[k], before.floor[k], `floor.${k}`);
  assert.deepEqual(after.participants.map((p) => p.sub).sort(), before.participants.map((p) => p.sub).sort());
  assert.equal((await s2.api('GET', `/api/rooms/${closed.room.id}`)).json.status, 'closed');
  // The record is the same.
  const recordAfter = eventsOf((await transcript(s2, mt.room.id, 'json')).json);
  assert.deepEqual(recordAfter, recordBefore);
  // Same history: resume works across the restart.
  const r = await enter(s2, mt.room.id, 'moderator', 'chair', { name: 'The Chair' }, { since: seq - 2, epoch });
  assert.equal(r.w.epoch, epoch);
  assert.equal(r.w.seq, seq);
  assert.equal(r.w.resumed, true);
  assert.deepEqual(r.w.events.map((e) => e.seq), [seq - 1, seq]);
  assert.deepEqual(r.w.room.muted, ['de']);
  // New events continue the seq; request ids are never reused.
  const d = await enter(s2, mt.room.id, 'delegate', 'it');
  const { reply, events: evs } = await act(d.c, { type: 'request_floor' });
  assert.equal(reply.type, 'ack');
  assert.equal(reply.seq, seq + 1);
  const used = recordAfter.filter((e) => e.name === 'floor_requested').map((e) => e.data.request.id);
  assert.ok(!used.includes(evs.at(-1).data.request.id), `request id ${evs.at(-1).data.request.id} reused`);
  // A removal and a role change survive the restart.
  const g = await join(s2, s2.token({ sub: 'gone', name: 'Gone', room: mt.room.id, role: 'delegate' })).catch((e) => ({ err: e }));
  assert.ok(g.err || (g.welcome.type !== 'welcome'), 'a removed participant rejoined after the restart');
  if (g.client) assert.equal((await g.client.waitClose()).code, 4403);
  const de = await enter(s2, mt.room.id, 'delegate', 'de', { name: 'Botschafterin Weber', delegation: 'Germany' });
  assert.equal(de.w.you.role, 'observer');
  de.c.close();
  // The floor still works: the holder yields.
  const fr = await enter(s2, mt.room.id, 'delegate', 'fr', { name: 'Ambassador Dupont', delegation: 'France' });
  const y = await act(fr.c, { type: 'yield' });
  assert.equal(y.reply.type, 'ack', JSON.stringify(y.reply));
  for (const c of [r.c, d.c, fr.c]) c.close();
});

test('SIGINT drains too', async () => {
  const s = await startServer();
  const mt = await meeting(s, {}, [['fr', {}]]);
  await mt.ok(mt.d.fr, { type: 'say', text: 'bye' });
  const closes = Promise.all(mt.all.map((c) => c.waitClose(10000)));
  const exit = await s.stop('SIGINT');
  assert.equal(exit.code, 0);
  for (const cl of await closes) assert.equal(cl.code, 1001);
});

test('without --secret-file, the generated secret is kept in --data-dir across restarts', async (t) => {
  const s1 = await startServer({ secretFile: false });
  let s2;
  t.after(async () => { await stopChecked(s1); if (s2) await stopChecked(s2); });
  const room = (await s1.api('POST', '/api/rooms', { id: `sec-${process.pid}`, title: 'Secret', agenda: [] })).json;
  const tok = (await s1.api('POST', `/api/rooms/${room.id}/tokens`, { sub: 'x1', name: 'X', role: 'delegate' })).json.token;
  let j = await join(s1, tok);
  assert.equal(j.welcome.type, 'welcome');
  j.client.close();
  // The harness' own secret is not the server's.
  const forged = await join(s1, s1.token({ sub: 'x2', name: 'X', room: room.id, role: 'delegate' })).catch((e) => ({ err: e }));
  assert.ok(forged.err || forged.welcome.type !== 'welcome', 'a token signed with another secret joined');
  forged.client?.close();
  assert.equal((await s1.stop()).code, 0);
  s2 = await startServer({ dir: s1.dir, secretFile: false, adminKey: s1.adminKey });
  j = await join(s2, tok);
  assert.equal(j.welcome.type, 'welcome', 'a token minted before the restart is refused after it');
  j.client.close();
});

test('without --data-dir nothing is written and the server still works', async (t) => {
  const s = await startServer({ dataDir: false });
  t.after(() => stopChecked(s));
  const mt = await meeting(s, {}, [['fr', {}]]);
  await mt.ok(mt.d.fr, { type: 'request_floor' });
  mt.close();
});

test('the server drains and exits 0 without a sanitizer report', async () => {
  await stopChecked(server);
});
