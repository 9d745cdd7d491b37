// The meeting's clock (contract 9.1 and 9.2): before the meeting, its start
// in the meeting's zone and the viewer's own with a countdown; during it,
// the current segment and its planned end, and for the chair the list's
// projected end against it, the overrun and the speech limit that fits
// (one click sets it). The projection itself is projection.js (the same
// rules as the C library); this module only shows it.
import { el, fill, userText } from './dom.js';
import { CMD, STATUS } from './names.js';
import { clock, timeOfDay, isoTime, spokenDuration } from './format.js';
import { project } from './projection.js';
import { errorNode } from './errors.js';

// The server's clock, as this client knows it.
export function serverNow(s) { return Math.round(Date.now() + (s.skew || 0)); }

// The projection of the room now, or null.
export function projection(s) { return s.room ? project(s.room, serverNow(s)) : null; }

// "America/New_York" -> "New York"; "UTC" -> "UTC".
export function zoneCity(tz) {
  const last = String(tz || '').split('/').pop() || '';
  return last.replace(/_/g, ' ');
}

// 11:30 in time zone tz (null: the viewer's own).
export function timeIn(ms, tz) {
  try {
    return new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', ...(tz ? { timeZone: tz } : {}) }).format(new Date(ms));
  } catch {
    return timeOfDay(ms);
  }
}

function dayIn(ms, tz) {
  try {
    return new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', ...(tz ? { timeZone: tz } : {}) }).format(new Date(ms));
  } catch {
    return '';
  }
}

function viewerZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
}

// "about 7 min" until ms from now ("in under a minute" below 30 s).
export function aboutMin(ms) {
  const min = Math.round(Math.max(0, ms) / 60000);
  return min < 1 ? 'in under a minute' : `about ${min} min`;
}

// "1:02:03" to a start; days first when far.
function countdown(ms) {
  if (ms <= 0) return '0:00';
  const days = Math.floor(ms / 86400000);
  const rest = clock(ms - days * 86400000, true);
  return days ? `${days} d ${rest}` : rest;
}

// ---- before the meeting (status scheduled) ----

export function createSchedulePanel(ctx) {
  const when = el('p', { class: 'sched-when' });
  const day = el('p', { class: 'sched-day muted' });
  const label = el('p', { class: 'clock-label', id: 'start-timer-label' }, 'The meeting starts in');
  const digits = el('span', { class: 'clock-digits' }, '–:––');
  const timer = el('div', { role: 'timer', id: 'start-timer', class: 'clock-time', 'aria-labelledby': 'start-timer-label' }, digits);
  const list = el('p', { class: 'sched-list' });
  const node = el('section', { class: 'card sched', 'aria-labelledby': 'sched-h', id: 'sched', hidden: true },
    el('div', { class: 'card-head' }, el('h2', { id: 'sched-h' }, 'Before the meeting')),
    when, day, el('div', { class: 'clock' }, label, timer), list);

  function update(s) {
    const room = s.room;
    const on = !!(room && room.status === STATUS.SCHEDULED);
    node.hidden = !on;
    if (!on) return;
    const sc = room.schedule;
    if (sc && Number.isFinite(sc.starts_at)) {
      const tz = sc.time_zone;
      const mine = viewerZone();
      const meeting = `${timeIn(sc.starts_at, tz)} ${zoneCity(tz)}`;
      const text = mine && mine === tz
        ? `Starts at ${meeting} (your time too), ends at ${timeIn(sc.ends_at, tz)}.`
        : `Starts at ${meeting}, ${timeIn(sc.starts_at, null)} your time; ends at ${timeIn(sc.ends_at, tz)} ${zoneCity(tz)}, ${timeIn(sc.ends_at, null)} your time.`;
      if (when.textContent !== text) when.textContent = text;
      const d = dayIn(sc.starts_at, tz);
      if (day.textContent !== d) day.textContent = d;
    } else {
      when.textContent = 'The meeting has not opened yet; the chair opens it.';
      day.textContent = '';
    }
    const open = !room.settings || room.settings.list_open !== false;
    const lt = open
      ? 'The list of speakers is already open: you can ask for the floor now.'
      : 'The list of speakers is closed for now.';
    if (list.textContent !== lt) list.textContent = lt;
    tick(s);
  }

  function tick(s) {
    const room = s.room;
    if (!room || room.status !== STATUS.SCHEDULED) return;
    const sc = room.schedule;
    const left = sc && Number.isFinite(sc.starts_at) ? sc.starts_at - serverNow(s) : null;
    const text = left === null ? '–:––' : countdown(left);
    if (digits.textContent !== text) digits.textContent = text;
    const lt = left !== null && left <= 0 ? 'Starting time reached; waiting for the chair to open the meeting' : 'The meeting starts in';
    if (label.textContent !== lt) label.textContent = lt;
  }

  return { node, update, tick };
}

// ---- the segment: planned end, projected end, overrun, the limit that fits ----

// The reserved items after the current one (the protected closing segment).
function protectedAfter(room) {
  const items = Array.isArray(room.agenda) ? room.agenda : [];
  const ci = items.findIndex((i) => i.id === room.agenda_item);
  return items.slice(ci + 1).filter((i) => i.reserved === true);
}

export function createSegment(ctx, { chair }) {
  const title = el('p', { class: 'seg-title' });
  const planned = el('p', { class: 'seg-planned' });
  const projected = el('p', { class: 'seg-projected', id: 'seg-projected' });
  const fitText = el('p', { class: 'seg-fit', id: 'seg-fit' });
  const fitBtn = el('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'fit', 'aria-describedby': 'seg-fit err-fit',
    onclick: () => {
      const p = projection(ctx.s);
      if (p && p.fit_s) ctx.act('fit', { type: CMD.UPDATE_SETTINGS, settings: { speech_s: p.fit_s } });
    } }, 'Set the speech limit to fit');
  const fitBox = el('div', { class: 'seg-fit-box', hidden: true }, fitText, el('div', { class: 'ctl-row' }, fitBtn), errorNode('fit'));
  const prot = el('p', { class: 'seg-protected' });
  const node = el('section', { class: 'card segment', 'aria-labelledby': 'seg-h', id: 'segment', hidden: true },
    el('div', { class: 'card-head' }, el('h2', { id: 'seg-h' }, 'Current segment')),
    title, planned, chair ? projected : null, chair ? fitBox : null, prot);

  function update(s) { tick(s); }

  function tick(s) {
    const room = s.room;
    const p = room && room.status !== STATUS.CLOSED ? projection(s) : null;
    const item = room && Array.isArray(room.agenda) ? room.agenda.find((i) => i.id === room.agenda_item) : null;
    const show = !!(p && p.segment_end !== null);
    node.hidden = !show;
    if (!show) return;
    const tt = item ? item.title : (room.title || '');
    if (title.textContent !== tt) fill(title, userText(tt, 'seg-item'));
    const fromPlan = item && Number.isInteger(item.planned_s);
    const pt = `Planned end ${timeOfDay(p.segment_end)}${fromPlan ? ` (${clock(item.planned_s * 1000)} planned)` : ' (the meeting\'s end, before any protected segment)'}.`;
    if (planned.textContent !== pt) planned.textContent = pt;
    const after = protectedAfter(room);
    const prt = after.length
      ? `Protected: ${after.map((i) => `${i.title}${Number.isInteger(i.planned_s) ? ` (${clock(i.planned_s * 1000)})` : ''}`).join('; ')}. The list does not eat into ${after.length === 1 ? 'it' : 'them'}.`
      : '';
    if (prot.textContent !== prt) prot.textContent = prt;
    prot.hidden = !prt;
    if (!chair) return;
    const q = Array.isArray(room.queue) ? room.queue : [];
    let txt;
    if (!q.length && !room.floor) txt = 'The speakers list is empty.';
    else if (p.overrun_ms > 0) txt = `The list ends at ${timeOfDay(p.list_end)}, the segment at ${timeOfDay(p.segment_end)}: ${clock(p.overrun_ms)} over.`;
    else txt = `The list ends at ${timeOfDay(p.list_end)}, within the segment (${clock(p.segment_end - p.list_end)} to spare).`;
    if (projected.textContent !== txt) projected.textContent = txt;
    projected.dataset.over = p.overrun_ms > 0 ? 'yes' : 'no';
    const over = p.overrun_ms > 0;
    fitBox.hidden = !over;
    if (over) {
      const ft = p.fit_s
        ? `At ${clock(p.fit_s * 1000)} per speech the list fits.`
        : `Even ${clock(30000)} per speech would not fit: close the list, or move speakers to the next item.`;
      if (fitText.textContent !== ft) fitText.textContent = ft;
      fitBtn.hidden = !p.fit_s;
      const cur = room.settings && room.settings.speech_s;
      fitBtn.disabled = !p.fit_s || cur === p.fit_s;
    }
  }

  return { node, update, tick };
}

// The delegate's own timing: "about N min" to their first request and
// whether it may not be reached in this segment. Returns { eta, atRisk }
// or null when they are not on the list.
export function myTiming(s) {
  const me = s.you && s.you.sub;
  const p = projection(s);
  if (!p || !me) return null;
  const q = Array.isArray(s.room.queue) ? s.room.queue : [];
  const i = q.findIndex((r) => r.sub === me);
  if (i < 0 || !p.queue[i]) return null;
  return { wait: p.queue[i].eta - serverNow(s), atRisk: p.queue[i].at_risk, segmentEnd: p.segment_end };
}

// Planned and actual times of the agenda items this client has seen start:
// { [item]: { started_at, ended_at } }, from the snapshot's
// agenda_item_started_at and the events since.
export function noteItemTimes(s, ev) {
  if (!s.itemTimes) s.itemTimes = {};
  const room = s.room;
  if (!room) return;
  const cur = room.agenda_item;
  const at = room.agenda_item_started_at;
  if (ev && ev.state && 'agenda_item_started_at' in ev.state) {
    for (const [id, t] of Object.entries(s.itemTimes)) if (id !== cur && t.ended_at === null) t.ended_at = ev.ts;
  }
  if (ev && ev.name === 'status_changed' && room.status === STATUS.CLOSED && cur && s.itemTimes[cur] && s.itemTimes[cur].ended_at === null) {
    s.itemTimes[cur].ended_at = ev.ts;
  }
  if (cur && Number.isFinite(at) && (!s.itemTimes[cur] || s.itemTimes[cur].started_at !== at)) {
    s.itemTimes[cur] = { started_at: at, ended_at: null };
  }
}

export function itemTimeText(s, item) {
  const t = s.itemTimes && s.itemTimes[item.id];
  const parts = [];
  if (Number.isInteger(item.planned_s)) parts.push(`planned ${clock(item.planned_s * 1000)}`);
  if (t) {
    const end = t.ended_at === null ? serverNow(s) : t.ended_at;
    parts.push(t.ended_at === null
      ? `started ${timeOfDay(t.started_at)}, ${clock(end - t.started_at)} so far`
      : `took ${clock(end - t.started_at)} (${timeOfDay(t.started_at)}–${timeOfDay(t.ended_at)})`);
  }
  return parts.join(' · ');
}

export { isoTime, spokenDuration };
