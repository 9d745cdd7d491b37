// Contract section 9.4: written statements, and their embargo tested as an
// attacker would: an observer, another delegate and an interpreter watch
// every frame; a resume, a fresh join, the admin room view, the transcript
// (every format) and /metrics are read before publication; the server's
// log is searched. None may hold the text until statement_published.
// Then: survival across a restart (journal) or a Redis-backed restart, the
// 64 KiB frame for a 20,000-character statement (and only for it), and the
// role interpreter. Runs on both backends (ROSTRUM_TEST_BACKEND=redis).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, enter, act, join, sleep, stopChecked, Client,
} from '../lib/harness.mjs';
import { meeting } from '../lib/meeting.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const SECRET = 'EMBARGOED-7f3a: Madame la Présidente, la délégation française…';

// get_statement's reply is the statement itself (or an error), not an ack.
let askc = 0;
async function ask(c, obj) {
  const id = `g${++askc}`;
  const at = c.mark();
  c.send({ ...obj, id });
  const reply = await c.waitFor((m) => (m.type === 'statement' || m.type === 'error' || m.type === 'ack') && m.id === id, 5000, at);
  return { reply, id, events: c.log.slice(at, c.log.indexOf(reply, at)).filter((m) => m.type === 'event') };
}

// The events a command made (the last n before its ack, by seq): events of
// earlier commands may still arrive on this connection before it.
const made = (r, n = 1) => r.events.filter((e) => e.seq > r.reply.seq - n && e.seq <= r.reply.seq);

// The request id a request_floor's ack names.
const reqOf = (r) => r.events.find((e) => e.seq === r.reply.seq).data.request.id;

// Every string any frame received by c ever held.
const allText = (c) => JSON.stringify(c.log);
const noSecret = (what, s, secret = SECRET) => assert.ok(!s.includes(secret.slice(0, 16)), `${what} holds the embargoed text: ${s.slice(s.indexOf(secret.slice(0, 16)) - 200, s.indexOf(secret.slice(0, 16)) + 100)}`);

async function watchers(mt) {
  const obs = (await mt.join('observer', 'obs-1', { name: 'Observer' })).c;
  const interp = (await mt.join('interpreter', 'int-1', { name: 'Interprète' })).c;
  return { obs, interp };
}

test('deposit, read, replace, publish on delivery: the text is nowhere before statement_published', async () => {
  const mt = await meeting(server, { speech_s: 600, pause_on_disconnect: false });
  const { obs, interp } = await watchers(mt);
  const r1 = await mt.ok(mt.d.fr, { type: 'request_floor', lang: 'fr' });
  const req = r1.events.find((e) => e.seq === r1.reply.seq).data.request;
  await mt.ok(mt.d.de, { type: 'request_floor' });

  // the requester deposits: the event and the queue say size and language
  const dep = await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: req.id, text: 'first draft' });
  const ev = made(dep)[0];
  assert.equal(ev.name, 'statement_deposited');
  assert.deepEqual(ev.data, { request_id: req.id, sub: 'fr', chars: 11, lang: 'fr' });
  assert.deepEqual(ev.state.queue.find((q) => q.id === req.id).statement, { chars: 11, lang: 'fr' });
  assert.equal(ev.state.queue.find((q) => q.id !== req.id).statement, undefined);
  // replaced (by the requester), with its own language
  const rep = await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: req.id, text: SECRET, lang: 'en' });
  assert.deepEqual(made(rep)[0].data, { request_id: req.id, sub: 'fr', chars: [...SECRET].length, lang: 'en' });

  // readers: the requester, the chair, the interpreter; nobody else
  for (const c of [mt.d.fr, mt.m, interp]) {
    const r = await ask(c, { type: 'get_statement', request_id: req.id });
    assert.equal(r.reply.type, 'statement', JSON.stringify(r.reply));
    assert.equal(r.reply.text, SECRET);
    assert.equal(r.reply.request_id, req.id);
    assert.equal(r.reply.lang, 'en');
    assert.equal(r.reply.id, r.id);
    assert.deepEqual(r.events, []);
  }
  for (const c of [mt.d.de, obs]) {
    const r = await ask(c, { type: 'get_statement', request_id: req.id });
    assert.equal(r.reply.code, 'forbidden');
    noSecret('the refusal', JSON.stringify(r.reply));
  }
  // another's request: forbidden; unknown: forbidden for a delegate, not_found for the chair
  await mt.refused(mt.d.de, { type: 'deposit_statement', request_id: req.id, text: 'hijack' }, 'forbidden');
  await mt.refused(mt.d.de, { type: 'get_statement', request_id: 'r999' }, 'forbidden');
  await mt.refused(mt.m, { type: 'get_statement', request_id: 'r999' }, 'not_found');
  await mt.refused(mt.d.fr, { type: 'deposit_statement', request_id: 'r999', text: 'x' }, 'not_found');
  await mt.refused(obs, { type: 'deposit_statement', request_id: req.id, text: 'x' }, 'forbidden');
  await mt.refused(interp, { type: 'deposit_statement', request_id: req.id, text: 'x' }, 'forbidden');

  // The attacker's look before publication: every frame, a resume, a fresh
  // join, the admin view, the record in every format, /metrics, the log.
  await mt.ok(mt.m, { type: 'grant', request_id: req.id });
  await mt.refused(mt.d.fr, { type: 'deposit_statement', request_id: req.id, text: 'too late' }, 'conflict');
  for (const c of [obs, mt.d.de, interp]) {
    await c.sync();
    // the interpreter asked for it: its get_statement replies are the one
    // place the text may be; every other frame is checked
    noSecret('a live frame', JSON.stringify(c.log.filter((m) => m.type !== 'statement' || c !== interp)));
  }
  const again = await join(server, { sub: 'obs-2', name: 'Late', room: mt.room.id, role: 'observer' }, { since: 0, epoch: obs.log[0].epoch });
  noSecret('a resume', JSON.stringify(again.welcome));
  again.client.close();
  const fresh = await join(server, { sub: 'obs-3', name: 'Fresh', room: mt.room.id, role: 'observer' });
  noSecret('a welcome', JSON.stringify(fresh.welcome));
  fresh.client.close();
  noSecret('the admin room view', (await server.api('GET', `/api/rooms/${mt.room.id}`)).text);
  noSecret('the room list', (await server.api('GET', '/api/rooms')).text);
  for (const f of ['json', 'md', 'csv']) noSecret(`the ${f} record`, (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=${f}`)).text);
  noSecret('/metrics', await (await fetch(`${server.http}/metrics`)).text());
  noSecret('the server log', server.log);

  // the floor ends: statement_published right after floor_ended, to all
  const at = obs.mark();
  const end = await mt.ok(mt.d.fr, { type: 'yield' });
  assert.deepEqual(made(end, 2).map((e) => e.name), ['floor_ended', 'statement_published']);
  const pub = made(end, 2)[1];
  assert.deepEqual(pub.data, { request_id: req.id, sub: 'fr', name: 'Delegate fr', delegation: 'France', region: null, lang: 'en', text: SECRET, delivered: true });
  assert.equal(pub.seq, made(end, 2)[0].seq + 1);
  const seen = await obs.waitEvent('statement_published', () => true, 5000, at);
  assert.equal(seen.data.text, SECRET);
  // now in the record and on resume
  const rec = (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=json`)).json;
  assert.equal(rec.events.find((e) => e.name === 'statement_published').data.text, SECRET);
  mt.close();
});

test('accept_written publishes undelivered; a withdrawn or removed request\'s statement is never published', async () => {
  const mt = await meeting(server, {}, [['fr', { delegation: 'France' }], ['de', { delegation: 'Germany' }], ['eg', { delegation: 'Egypt', region: 'African States' }]]);
  const obs = (await mt.join('observer', 'obs-w', { name: 'Observer' })).c;
  const rf = reqOf(await mt.ok(mt.d.fr, { type: 'request_floor' }));
  const rd = reqOf(await mt.ok(mt.d.de, { type: 'request_floor' }));
  const re = reqOf(await mt.ok(mt.d.eg, { type: 'request_floor' }));
  await mt.refused(mt.m, { type: 'accept_written', request_id: re }, 'not_found'); // no statement yet
  await mt.ok(mt.d.eg, { type: 'deposit_statement', request_id: re, text: 'Egypt, in writing.' });
  await mt.refused(mt.d.eg, { type: 'accept_written', request_id: re }, 'forbidden');
  const acc = await mt.ok(mt.m, { type: 'accept_written', request_id: re });
  assert.deepEqual(made(acc).map((e) => e.name), ['statement_published']);
  assert.equal(made(acc)[0].data.delivered, false);
  assert.equal(made(acc)[0].data.region, 'African States');
  assert.equal(made(acc)[0].data.text, 'Egypt, in writing.');
  assert.deepEqual(made(acc)[0].state.queue.map((q) => q.id), [rf, rd]);
  // withdrawn and removed: discarded
  await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: rf, text: 'WITHDRAWN-SECRET-1' });
  await mt.ok(mt.d.fr, { type: 'withdraw', request_id: rf });
  await mt.refused(mt.m, { type: 'get_statement', request_id: rf }, 'not_found');
  await mt.ok(mt.d.de, { type: 'deposit_statement', request_id: rd, text: 'REMOVED-SECRET-2' });
  await mt.ok(mt.m, { type: 'remove_request', request_id: rd });
  await mt.refused(mt.m, { type: 'get_statement', request_id: rd }, 'not_found');
  await mt.m.sync();
  await obs.sync();
  const all = allText(obs) + (await server.api('GET', `/api/rooms/${mt.room.id}/transcript?format=json`)).text;
  noSecret('what was withdrawn', all, 'WITHDRAWN-SECRET-1');
  noSecret('what was removed', all, 'REMOVED-SECRET-2');
  assert.ok(allText(obs).includes('Egypt, in writing.'));
  mt.close();
});

test('a statement of 20,000 characters in a frame of up to 64 KiB; every other frame keeps its limit', async () => {
  const mt = await meeting(server);
  const r = reqOf(await mt.ok(mt.d.fr, { type: 'request_floor' }));
  const long = ('Ceci est une déclaration écrite. ').repeat(700).slice(0, 20000); // é: 2 bytes
  assert.equal([...long].length, 20000);
  assert.ok(Buffer.byteLength(JSON.stringify({ type: 'deposit_statement', request_id: r, text: long })) > 16384);
  const dep = await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: r, text: long });
  assert.equal(made(dep)[0].data.chars, 20000);
  const back = await ask(mt.m, { type: 'get_statement', request_id: r });
  assert.equal(back.reply.text, long);
  const over = await act(mt.d.fr, { type: 'deposit_statement', request_id: r, text: `${long}x` });
  assert.equal(over.reply.code, 'too_large');
  // a say of the same size is too big a frame: 1009, as before
  const { c } = await enter(server, mt.room.id, 'delegate', 'big', { name: 'Big' });
  c.send({ type: 'say', text: long });
  assert.equal((await c.waitClose()).code, 1009);
  // and nothing above 64 KiB
  const { c: c2 } = await enter(server, mt.room.id, 'delegate', 'bigger', { name: 'Bigger' });
  c2.send({ type: 'deposit_statement', request_id: r, text: 'é'.repeat(33000) });
  assert.equal((await c2.waitClose()).code, 1009);
  mt.close();
});

test('role interpreter: listed, reads statements, may do nothing else', async () => {
  const mt = await meeting(server);
  const { c: i, w } = await enter(server, mt.room.id, 'interpreter', 'int-ar', { name: 'مترجم' });
  assert.equal(w.you.role, 'interpreter');
  const roster = (await enter(server, mt.room.id, 'observer', 'obs-r', { name: 'O' })).w.participants;
  assert.ok(roster.some((p) => p.sub === 'int-ar' && p.role === 'interpreter'), JSON.stringify(roster));
  for (const cmd of [{ type: 'request_floor' }, { type: 'say', text: 'hi' }, { type: 'grant' }, { type: 'announce', text: 'x' }, { type: 'publish_conclusions', text: 'x' }, { type: 'accept_written', request_id: 'r1' }]) {
    const r = await act(i, cmd);
    assert.equal(r.reply.code, 'forbidden', JSON.stringify(cmd));
  }
  i.send({ type: 'ping' });
  await i.waitFor((m) => m.type === 'pong');
  // a token for it from the admin API
  const tok = await server.api('POST', `/api/rooms/${mt.room.id}/tokens`, { sub: 'int-en', name: 'Interpreter EN', role: 'interpreter' });
  assert.equal(tok.status, 201, tok.text);
  mt.close();
  i.close();
});

test('statements survive a restart (journal or Redis) and are published after it', async (t) => {
  const s1 = await startServer();
  let s2;
  t.after(async () => { await stopChecked(s1); if (s2) await stopChecked(s2); });
  const mt = await meeting(s1, { speech_s: 600, pause_on_disconnect: false });
  const r = reqOf(await mt.ok(mt.d.fr, { type: 'request_floor' }));
  await mt.ok(mt.d.fr, { type: 'deposit_statement', request_id: r, text: SECRET });
  mt.close();
  await stopChecked(s1);
  noSecret('the first server\'s log', s1.log);
  s2 = await startServer({ dir: s1.dir, secret: s1.secret, adminKey: s1.adminKey });
  const m = (await enter(s2, mt.room.id, 'moderator', 'chair', { name: 'The Chair' })).c;
  const got = await ask(m, { type: 'get_statement', request_id: r });
  assert.equal(got.reply.text, SECRET);
  await act(m, { type: 'grant', request_id: r });
  const end = await act(m, { type: 'end_floor' });
  assert.deepEqual(made(end, 2).map((e) => e.name), ['floor_ended', 'statement_published']);
  assert.equal(made(end, 2)[1].data.text, SECRET);
  noSecret('the second server\'s log', s2.log);
  m.close();
});
