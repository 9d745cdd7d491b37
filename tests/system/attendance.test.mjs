// Contract section 9.5: the conclusions and the attendance in every format
// of the record (first join, last leave, per person; observers' peak), kept
// across a restart; and the minutes as a summary record (agenda items,
// statements delivered and circulated in writing, the conclusions, the
// attendance, the fingerprint). Runs on both backends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, enter, act, sleep, stopChecked } from '../lib/harness.mjs';
import { meeting } from '../lib/meeting.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const made = (r, n = 1) => r.events.filter((e) => e.seq > r.reply.seq - n && e.seq <= r.reply.seq);
const reqOf = (r) => made(r)[0].data.request.id;
const json = async (s, id) => (await s.api('GET', `/api/rooms/${id}/transcript?format=json`)).json;
const until = async (fn, what, ms = 5000) => {
  const end = Date.now() + ms;
  for (;;) { const v = await fn(); if (v) return v; if (Date.now() > end) throw new Error(`never: ${what}`); await sleep(50); }
};

test('attendance: first join, last leave (null while connected), turns, the observers\' peak; in JSON, Markdown and CSV', async () => {
  const t0 = Date.now();
  const mt = await meeting(server, { speech_s: 600 }, [['fr', { delegation: 'France', category: 'member_state' }], ['eg', { delegation: 'Egypt', region: 'African States', category: 'member_state' }]]);
  const interp = (await mt.join('interpreter', 'int-1', { name: 'Interprète' })).c;
  const obs = [];
  for (let i = 0; i < 3; i++) obs.push((await mt.join('observer', `obs-${i}`, { name: `O${i}` })).c);
  const r = reqOf(await mt.ok(mt.d.fr, { type: 'request_floor' }));
  await mt.ok(mt.m, { type: 'grant', request_id: r });
  await sleep(20);
  await mt.ok(mt.d.fr, { type: 'yield' });
  for (const o of obs) o.close();
  await sleep(100);
  mt.d.fr.close();
  const rec = await until(async () => {
    const j = await json(server, mt.room.id);
    const fr = j.attendance.participants.find((p) => p.sub === 'fr');
    return fr && fr.last_left_at ? j : null;
  }, 'fr\'s leave in the record');
  const a = rec.attendance;
  const by = Object.fromEntries(a.participants.map((p) => [p.sub, p]));
  assert.deepEqual(Object.keys(by).sort(), ['chair', 'eg', 'fr', 'int-1']);
  assert.equal(by['int-1'].role, 'interpreter');
  assert.equal(by.eg.region, 'African States');
  assert.equal(by.eg.category, 'member_state');
  assert.equal(by.eg.delegation, 'Egypt');
  for (const p of a.participants) {
    assert.ok(p.first_joined_at >= t0 - 1000 && p.first_joined_at <= Date.now(), JSON.stringify(p));
  }
  assert.ok(by.fr.last_left_at >= by.fr.first_joined_at);
  assert.equal(by.eg.last_left_at, null);
  assert.equal(by.chair.last_left_at, null);
  assert.equal(by.fr.turns, 1);
  assert.ok(by.fr.spoken_ms >= 20);
  assert.equal(a.observers_peak, 3);
  assert.ok(a.observers_peak_at >= t0);
  // fr comes back: connected again, first join unchanged
  const back = (await enter(server, mt.room.id, 'delegate', 'fr', { name: 'Delegate fr', delegation: 'France' })).c;
  const rec2 = await until(async () => {
    const j = await json(server, mt.room.id);
    return j.attendance.participants.find((p) => p.sub === 'fr').last_left_at === null ? j : null;
  }, 'fr back');
  assert.equal(rec2.attendance.participants.find((p) => p.sub === 'fr').first_joined_at, by.fr.first_joined_at);
  const md = (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=md`)).text;
  assert.match(md, /\n## Attendance\n/);
  assert.match(md, /\| Delegate eg \| Egypt \| African States \| member_state \| delegate \| \d\d:\d\d:\d\d \| still connected \| 0 \| 0:00 \|/);
  assert.match(md, /\| Interprète \| — \| — \| — \| interpreter \|/);
  assert.match(md, /Observers: at most 3 connected at once/);
  const csv = (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=csv`)).text;
  assert.match(csv, /\r\n,[0-9T:.Z-]+,attendance,,eg,Delegate eg,Egypt,"?role=delegate first_joined_at=\d+ last_left_at=null turns=0 spoken_ms=0 region=African States category=member_state"?,\r\n/);
  assert.match(csv, /,observers_peak,,,,,observers=3,\r\n/);
  back.close();
  interp.close();
  mt.close();
});

test('the conclusions: record_hash is the chain hash of the event before; the minutes read as a summary record', async () => {
  const mt = await meeting(server, { speech_s: 600 }, [['fr', { delegation: 'France' }], ['eg', { delegation: 'Egypt', region: 'African States' }], ['br', { delegation: 'Brazil', region: 'Latin American and Caribbean States' }]]);
  await mt.ok(mt.m, { type: 'set_agenda_item', item: 'q2' });
  const rf = reqOf(await mt.ok(mt.d.fr, { type: 'request_floor' }));
  const rb = reqOf(await mt.ok(mt.d.br, { type: 'request_floor' }));
  await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: rf, text: 'Mr. President, France aligns itself.' });
  await mt.ok(mt.d.br, { type: 'deposit_statement', request_id: rb, text: 'Brazil submits this in writing.' });
  await mt.ok(mt.m, { type: 'grant', request_id: rf });
  await mt.ok(mt.d.eg, { type: 'request_floor', kind: 'point_of_order' });
  await mt.ok(mt.d.fr, { type: 'yield' });
  await mt.ok(mt.m, { type: 'accept_written', request_id: rb });
  await mt.ok(mt.d.eg, { type: 'request_floor', kind: 'reply' });
  const before = await json(server, mt.room.id);
  await mt.refused(mt.d.fr, { type: 'publish_conclusions', text: 'no' }, 'forbidden');
  const at = mt.d.eg.mark();
  const c = await mt.ok(mt.m, { type: 'publish_conclusions', text: 'The Chair concluded:\n1. We agree.\n2. We meet again.' });
  const ev = made(c)[0];
  assert.equal(ev.name, 'conclusions_published');
  assert.deepEqual(ev.data, { from: { sub: 'chair', name: 'The Chair', delegation: null, role: 'moderator' }, text: 'The Chair concluded:\n1. We agree.\n2. We meet again.', record_hash: before.chain.head });
  assert.deepEqual(ev.state, {});
  assert.equal((await mt.d.eg.waitEvent('conclusions_published', () => true, 5000, at)).data.record_hash, before.chain.head);
  // a long one: 20,000 characters in a big frame
  const long = 'Conclusion. '.repeat(1667).slice(0, 20000);
  await mt.ok(mt.m, { type: 'publish_conclusions', text: long });
  const md = (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=md`)).text;
  assert.match(md, /\n### Agenda item q2: Second question\n/);
  assert.match(md, /The written statement of the representative of France, as handed in before delivery \(check against delivery\):\n\n {2}> Mr\. President, France aligns itself\./);
  assert.match(md, /The representative of Brazil \(Latin American and Caribbean States\) was not reached; the statement was circulated in writing:\n\n {2}> Brazil submits this in writing\./);
  assert.match(md, /The representative of Egypt \(African States\) rose to a point of order\./);
  assert.match(md, /The representative of Egypt \(African States\) asked for the right of reply\./);
  assert.match(md, /\n## Conclusions\n/);
  assert.match(md, /\n## Attendance\n/);
  assert.match(md, /\n## Record integrity\n/);
  assert.ok(md.indexOf('## Conclusions') < md.indexOf('## Attendance'));
  mt.close();
});

test('attendance and the observers\' peak survive a restart; who was connected at the drain has left then', async (t) => {
  const s1 = await startServer();
  let s2;
  t.after(async () => { await stopChecked(s1); if (s2) await stopChecked(s2); });
  const mt = await meeting(s1);
  const o1 = (await mt.join('observer', 'o1')).c;
  const o2 = (await mt.join('observer', 'o2')).c;
  await sleep(1300); // the peak is stored at most once a second
  const j1 = await json(s1, mt.room.id);
  o1.close();
  o2.close();
  const stopAt = Date.now();
  mt.close();
  await sleep(200);
  await stopChecked(s1);
  s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey });
  const j2 = await json(s2, mt.room.id);
  assert.equal(j2.attendance.observers_peak, 2);
  assert.equal(j2.attendance.observers_peak_at, j1.attendance.observers_peak_at);
  const by1 = Object.fromEntries(j1.attendance.participants.map((p) => [p.sub, p]));
  for (const p of j2.attendance.participants) {
    assert.equal(p.first_joined_at, by1[p.sub].first_joined_at, p.sub);
    assert.ok(p.last_left_at !== null && p.last_left_at >= stopAt - 1000 && p.last_left_at <= Date.now(), JSON.stringify(p));
  }
  assert.deepEqual(j2.attendance.participants.map((p) => p.sub).sort(), ['chair', 'de', 'fr']);
});
