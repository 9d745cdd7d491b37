// The room as this client knows it: the welcome's snapshot, then every
// sequenced event applied in order (each one exactly once), plus presence.
// Pure data: no DOM here.
import { EV } from './names.js';
import { DELTA_KEYS, applyDeltaState } from './delta.js';

const MAX_MESSAGES = 500;

export function createStore() {
  return {
    you: null,
    room: null,
    participants: new Map(), // sub -> participant (moderators, delegates)
    directory: new Map(), // sub -> {name, delegation}: everyone ever named
    removed: new Set(), // subs removed by the chair (their late presence is ignored)
    observers: 0,
    seq: 0,
    epoch: null,
    messages: [], // message events, in seq order
    conn: 'connecting',
    final: null,
    skew: 0, // server clock minus ours, ms
    errors: new Map(), // control key -> server message
    resyncs: 0, // re-joins because a delta-form queue disagreed with the server
    statements: [], // statement_published events (contract 9.4), in seq order
    conclusions: null, // the last conclusions_published event (9.5)
  };
}

// Applies a welcome. The snapshot is the room at welcome.seq; the events
// it carries (replayed after `since`, or the recent ones) are already in
// it, so they only feed the discussion.
export function applyWelcome(s, w) {
  const sameHistory = s.epoch !== null && w.epoch === s.epoch;
  if (!sameHistory) { s.messages = []; }
  s.you = w.you || null;
  s.room = w.room || null;
  if (!sameHistory) s.removed = new Set();
  for (const ev of w.events || []) if (ev && ev.name === EV.PARTICIPANT_REMOVED && ev.data) s.removed.add(ev.data.sub);
  s.participants = new Map();
  for (const p of w.participants || []) {
    remember(s, p);
    if (!s.removed.has(p.sub) && p.role !== 'observer') s.participants.set(p.sub, p);
  }
  remember(s, s.you);
  for (const r of queue(s)) remember(s, r);
  if (s.room && s.room.floor) remember(s, s.room.floor);
  if (Number.isFinite(w.observers)) s.observers = w.observers;
  const seen = new Set(s.messages.map((m) => m.seq));
  for (const ev of w.events || []) {
    if (ev && ev.name === EV.MESSAGE && !seen.has(ev.seq)) { s.messages.push(ev); seen.add(ev.seq); }
  }
  if (!sameHistory) { s.statements = []; s.conclusions = null; }
  for (const ev of w.events || []) noteRecord(s, ev);
  s.messages.sort((a, b) => a.seq - b.seq);
  if (s.messages.length > MAX_MESSAGES) s.messages.splice(0, s.messages.length - MAX_MESSAGES);
  s.seq = w.seq || 0;
  s.epoch = w.epoch || null;
}

// Applies one live event. Returns 'old' (already seen: ignored), 'gap' (a
// seq is missing: the caller resyncs), 'mismatch' (a delta-form event left
// a queue of another length or hash than the server's: the event counts
// as seen, and the caller re-joins with since for a fresh snapshot), or
// 'applied'.
export function applyEvent(s, ev) {
  if (!s.room || !Number.isFinite(ev.seq)) return 'old';
  if (ev.seq <= s.seq) return 'old';
  if (ev.seq !== s.seq + 1) return 'gap';
  const st = ev.state && typeof ev.state === 'object' ? ev.state : {};
  for (const [part, value] of Object.entries(st)) if (!DELTA_KEYS.has(part)) s.room[part] = value;
  const fits = applyDeltaState(s.room, st);
  const d = ev.data || {};
  switch (ev.name) {
    case EV.MESSAGE:
      remember(s, d.from);
      s.messages.push(ev);
      if (s.messages.length > MAX_MESSAGES) s.messages.shift();
      break;
    case EV.ROLE_CHANGED: {
      const p = s.participants.get(d.sub);
      if (p) {
        if (d.role === 'observer') s.participants.delete(d.sub);
        else s.participants.set(d.sub, { ...p, role: d.role });
      }
      if (s.you && d.sub === s.you.sub) s.you = { ...s.you, role: d.role };
      break;
    }
    case EV.FLOOR_REQUESTED:
      remember(s, d.request);
      break;
    case EV.PARTICIPANT_REMOVED:
      s.participants.delete(d.sub);
      s.removed.add(d.sub);
      break;
    case EV.SETTINGS_CHANGED:
      if (!st.settings && d.settings && s.room.settings) s.room.settings = { ...s.room.settings, ...d.settings };
      break;
    case EV.STATUS_CHANGED:
      if (!('status' in st) && d.status) s.room.status = d.status;
      break;
    case EV.AGENDA_ITEM_SET:
      if (!('agenda_item' in st) && d.item !== undefined) s.room.agenda_item = d.item;
      break;
    case EV.STATEMENT_PUBLISHED:
    case EV.CONCLUSIONS_PUBLISHED:
      noteRecord(s, ev);
      break;
    default:
      break;
  }
  s.seq = ev.seq;
  return fits ? 'applied' : 'mismatch';
}

// Published statements and the conclusions (contract 9.4, 9.5), kept
// once each by seq; a welcome that did not resume brings the recent ones.
function noteRecord(s, ev) {
  if (!ev || !ev.data) return;
  if (ev.name === EV.STATEMENT_PUBLISHED && !s.statements.some((x) => x.seq === ev.seq)) {
    s.statements.push(ev);
    s.statements.sort((a, b) => a.seq - b.seq);
  } else if (ev.name === EV.CONCLUSIONS_PUBLISHED && (!s.conclusions || s.conclusions.seq < ev.seq)) {
    s.conclusions = ev;
  }
}

export function applyPresence(s, m) {
  if (Number.isFinite(m.observers)) s.observers = m.observers;
  const p = m.participant;
  if (p && p.sub && !s.removed.has(p.sub)) {
    remember(s, p);
    if (p.role === 'observer') { s.participants.delete(p.sub); return; }
    const old = s.participants.get(p.sub) || {};
    s.participants.set(p.sub, { ...old, ...p });
  }
}

// Names survive a participant's removal, for the statistics.
function remember(s, p) {
  if (p && p.sub && p.name) s.directory.set(p.sub, { name: p.name, delegation: p.delegation || null });
}

// ---- derived facts ----

export function isMuted(s, sub) {
  const list = s.room && s.room.muted;
  if (Array.isArray(list)) return list.includes(sub);
  const p = s.participants.get(sub);
  return !!(p && p.muted);
}

export function isOnline(s, sub) {
  const p = s.participants.get(sub);
  return !!(p && p.online);
}

export function queue(s) { return (s.room && Array.isArray(s.room.queue)) ? s.room.queue : []; }

// 1-based position of the first request of `sub` in the queue, 0 if none.
export function positionOf(s, sub) {
  const q = queue(s);
  const i = q.findIndex((r) => r.sub === sub);
  return i < 0 ? 0 : i + 1;
}

export function holdsFloor(s, sub) {
  const f = s.room && s.room.floor;
  return !!(f && sub && f.sub === sub);
}

// Milliseconds spoken on the current floor, computed locally.
export function spentMs(s, now = Date.now()) {
  const f = s.room && s.room.floor;
  if (!f) return 0;
  const elapsed = Number(f.elapsed_ms) || 0;
  if (f.paused || !Number.isFinite(f.started_at)) return elapsed;
  return elapsed + Math.max(0, now + s.skew - f.started_at);
}

// Speaking time per delegation (or per person without one), from stats.
export function statsByDelegation(s) {
  const stats = (s.room && s.room.stats) || {};
  const rows = new Map();
  for (const [sub, st] of Object.entries(stats)) {
    const p = s.participants.get(sub) || s.directory.get(sub);
    const label = (p && (p.delegation || p.name)) || sub;
    const row = rows.get(label) || { label, turns: 0, spoken_ms: 0 };
    row.turns += Number(st.turns) || 0;
    row.spoken_ms += Number(st.spoken_ms) || 0;
    rows.set(label, row);
  }
  return [...rows.values()].sort((a, b) => b.spoken_ms - a.spoken_ms || a.label.localeCompare(b.label));
}
