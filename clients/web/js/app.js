// Entry point. Takes the invite token from the address (#t=...), removes it
// from the address bar and keeps it in sessionStorage for reconnects, joins
// the room, and keeps the page in step with it: welcome, then events by seq,
// presence, reconnects with resume.
import { el, fill } from './dom.js';
import { Connection } from './connection.js';
import { createStore, applyWelcome, applyEvent, applyPresence } from './store.js';
import { createRoomView } from './view.js';
import { currentItem } from './agenda.js';
import { EV, END, STATUS } from './names.js';
import { statusLabel, roleLabel, who } from './format.js';
import { showLanding, showFinal } from './landing.js';
import { noteItemTimes } from './timing.js';
import { createBalanceState, noteBalanceEvent, seedBalance } from './balance.js';

const TOKEN_KEY = 'rostrum.token';
const ERROR_SHOWN_MS = 20000;

const s = createStore();
const app = document.getElementById('app');
const live = document.getElementById('live');
const connNode = document.getElementById('conn');
const banner = document.getElementById('banner');
const titleNode = document.getElementById('room-title');
const statusNode = document.getElementById('room-status');
const itemNode = document.getElementById('room-item');
const whoNode = document.getElementById('whoami');

let conn = null;
let view = null;
let viewRole = null;
let scheduled = false;
let outage = false;

// ---- announcements (aria-live) ----
function announce(text) {
  const p = el('p', {}, text);
  live.append(p);
  while (live.childElementCount > 5) live.firstElementChild.remove();
}

// ---- commands ----
async function act(key, cmd) {
  s.errors.delete(key);
  render();
  const r = conn ? await conn.send(cmd) : { ok: false, message: 'Not connected.' };
  if (!r.ok) {
    const msg = r.message || r.code || 'Refused.';
    s.errors.set(key, msg);
    // A refusal is news for a while, not forever.
    setTimeout(() => { if (s.errors.get(key) === msg) { s.errors.delete(key); render(); } }, ERROR_SHOWN_MS);
  }
  render();
  return r;
}

// A command whose answer is not an ack (get_statement): no error kept.
const send = (cmd) => (conn ? conn.send(cmd) : Promise.resolve({ ok: false, message: 'Not connected.' }));

const ctx = { s, act, send, announce, render, confirmRemove: () => {} };

// ---- rendering ----
function render() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => { scheduled = false; renderNow(); });
}

function renderNow() {
  renderHeader();
  if (!s.room || !s.you || s.final) return;
  const role = s.you.role;
  if (!view || role !== viewRole) {
    view = createRoomView(ctx, role);
    viewRole = role;
    app.replaceChildren(view.node);
    document.body.dataset.role = role;
  }
  view.update(s);
}

function renderHeader() {
  const room = s.room;
  if (room) {
    if (titleNode.textContent !== room.title) titleNode.textContent = room.title || room.id;
    document.title = `${room.title || room.id} · Rostrum`;
    statusNode.hidden = false;
    statusNode.textContent = statusLabel(room.status);
    statusNode.className = `tag tag-status status-${room.status}`;
    const item = currentItem(s);
    itemNode.replaceChildren(item ? el('span', {}, el('span', { class: 'room-item-label' }, 'Agenda item: '), el('span', { dir: 'auto' }, item.title)) : '');
  }
  if (s.you) {
    fill(whoNode, el('span', { dir: 'auto', class: 'who-name' }, s.you.name || ''),
      s.you.delegation ? el('span', { dir: 'auto', class: 'who-deleg' }, s.you.delegation) : null,
      el('span', { class: 'tag tag-role' }, roleLabel(s.you.role)));
  }
  // Connection state and meeting status, in one strip under the header.
  let text = '';
  let kind = '';
  if (s.conn === 'reconnecting') { text = 'Connection lost. Reconnecting… What happens meanwhile will appear when the connection is back.'; kind = 'warn'; }
  else if (s.conn === 'connecting') { text = 'Connecting to the meeting…'; kind = 'info'; }
  else if (room && room.status === STATUS.SUSPENDED) { text = 'The meeting is suspended. Only the chair can act until it resumes.'; kind = 'warn'; }
  else if (room && room.status === STATUS.CLOSED) { text = 'The meeting is closed. Everything stays readable, nothing can be changed.'; kind = 'info'; }
  else if (room && room.status === STATUS.SCHEDULED) { text = 'The meeting has not opened yet. You can join, chat and ask for the floor; the chair opens the meeting.'; kind = 'info'; }
  // The banner is the aria-live region for these (one place for the words,
  // so they are announced once and found once).
  if (banner.textContent !== text) banner.textContent = text;
  banner.dataset.kind = kind;
  const c = s.conn === 'open' ? 'Connected' : s.conn === 'reconnecting' ? 'Offline' : s.conn === 'closed' ? 'Disconnected' : 'Connecting';
  if (connNode.textContent !== c) connNode.textContent = c;
  connNode.dataset.state = s.conn;
}

// ---- live updates ----
function narrate(ev) {
  const d = ev.data || {};
  const me = s.you && s.you.sub;
  switch (ev.name) {
    // "You have the floor" and "you are next" are announced by the
    // delegate's own status line, "time is up" and "paused" by the clock's
    // label, list, mute and meeting status by their own live regions: this
    // region says only what no other one does.
    case EV.FLOOR_GRANTED: {
      const f = d.floor || (s.room && s.room.floor);
      if (f && f.sub !== me) announce(`Floor granted to ${who(f)}.`);
      break;
    }
    case EV.FLOOR_ENDED:
      if (d.sub === me) break;
      if (d.reason === END.TIME) announce('The speaking time ran out; the floor has ended.');
      else if (d.reason === END.YIELDED) announce('The speaker yielded the floor.');
      else if (d.reason === END.MODERATOR) announce('The chair ended the floor.');
      break;
    case EV.TIME_EXTENDED: announce(`The chair added ${d.seconds} seconds.`); break;
    case EV.AGENDA_ITEM_SET: { const it = currentItem(s); if (it) announce(`Now on the agenda: ${it.title}.`); break; }
    case EV.STATEMENT_PUBLISHED: announce(`A statement was published: ${who(d)}${d.delivered ? '' : ', circulated in writing'}.`); break;
    case EV.CONCLUSIONS_PUBLISHED: announce('The chair published the conclusions.'); break;
    default: break;
  }
}

function onWelcome(w) {
  const first = !s.room;
  s.errors.clear();
  applyWelcome(s, w);
  // contract 9.1/9.3: item times and the chair's regional balance
  noteItemTimes(s, null);
  s.balance = createBalanceState();
  if (s.you && s.you.role === 'moderator') seedBalance(s, sessionStorage.getItem(TOKEN_KEY)).then((ok) => { if (ok) render(); });
  if (outage && !first) announce('Connection restored.');
  outage = false;
  render();
}

function onEvent(ev) {
  const floorBefore = s.room && s.room.floor;
  const r = applyEvent(s, ev);
  if (r === 'gap') { conn.reconnectNow(); return; }
  if (r !== 'applied' && r !== 'mismatch') return;
  noteItemTimes(s, ev);
  noteBalanceEvent(s, ev, floorBefore);
  // Refusals said before the meeting's status changed no longer hold.
  if (ev.name === EV.STATUS_CHANGED) s.errors.clear();
  narrate(ev);
  render();
  // The queue disagrees with the server's: join again from this event on
  // for a whole snapshot (never seen with a correct server).
  if (r === 'mismatch') { s.resyncs += 1; conn.reconnectNow(); }
}

function onPresence(m) { applyPresence(s, m); render(); }

function onStatus(state) {
  if (state === 'reconnecting' && s.room) outage = true;
  s.conn = state;
  render();
}

function onFinal(code, reason, lastError) {
  conn = null;
  s.final = { code };
  s.conn = 'closed';
  sessionStorage.removeItem(TOKEN_KEY);
  view = null;
  viewRole = null;
  document.body.dataset.role = '';
  showFinal(app, code, lastError, (token) => startWith(token));
  renderHeader();
}

// ---- start ----
function startWith(token) {
  if (conn) conn.stop();
  sessionStorage.setItem(TOKEN_KEY, token);
  Object.assign(s, createStore());
  view = null;
  viewRole = null;
  app.replaceChildren(el('p', { class: 'loading' }, 'Joining the meeting…'));
  conn = new Connection(token, {
    welcome: onWelcome,
    event: onEvent,
    presence: onPresence,
    status: onStatus,
    final: onFinal,
    skew: (ms) => { s.skew = ms; },
    resume: () => (s.epoch ? { since: s.seq, epoch: s.epoch } : null),
  });
  conn.start();
  render();
}

function tokenFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const t = params.get('t');
  if (!t) return null;
  // The token must not stay in the address bar (screenshots, shared screens).
  history.replaceState(null, '', location.pathname + location.search);
  return t;
}

function boot() {
  const fromHash = tokenFromHash();
  const token = fromHash || sessionStorage.getItem(TOKEN_KEY);
  if (token) startWith(token);
  else {
    s.conn = 'idle';
    banner.textContent = '';
    connNode.textContent = '';
    showLanding(app, (t) => startWith(t));
  }
}

window.addEventListener('hashchange', () => {
  const t = tokenFromHash();
  if (t) startWith(t);
});
window.addEventListener('online', () => { if (conn && s.conn === 'reconnecting') conn.reconnectNow(); });
setInterval(() => { if (view && s.room) view.tick(s); }, 250);

// A test or an embedding page can read the state; nothing depends on it.
window.rostrum = { state: s };

boot();
