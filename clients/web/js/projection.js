// Contract section 9.2: the projection every client computes, the same
// rules as protocol/projection.c (both pass protocol/projection-vectors.json;
// the decisions the contract leaves open are in docs/protocol.md).
// Pure: no DOM, no clock (now is an argument, in server ms).

export const MIN_FIT_S = 30;
export const MAX_FIT_S = 7200;

const int = (v) => Number.isInteger(v) && v >= 0;

function limitOf(l, kind) {
  if (kind === 'reply') return l.reply;
  if (kind === 'point_of_order') return l.point_of_order;
  return l.speech;
}

function setting(settings, key, def) {
  const v = settings[key];
  if (v === undefined) return def;
  if (!int(v)) throw new Error(`settings.${key}`);
  return v;
}

function segmentEnd(room, scheduled, sched) {
  const agenda = Array.isArray(room.agenda) ? room.agenda : [];
  const ci = room.agenda_item == null ? -1 : agenda.findIndex((i) => i && i.id === room.agenda_item);
  if (ci >= 0) {
    const planned = agenda[ci].planned_s;
    if (Number.isInteger(planned) && planned > 0 && planned <= 86400) {
      if (int(room.agenda_item_started_at)) return room.agenda_item_started_at + planned * 1000;
      if (scheduled && sched) return sched.starts_at + planned * 1000;
    }
  }
  if (!sched) return null;
  let e = sched.ends_at;
  for (let i = ci + 1; i < agenda.length; i++) {
    const it = agenda[i];
    if (it && it.reserved === true && Number.isInteger(it.planned_s) && it.planned_s > 0 && it.planned_s <= 86400) {
      e -= it.planned_s * 1000;
    }
  }
  return e;
}

// The projection of room (a snapshot) at now. Returns
// { start, remaining_ms, segment_end, list_end, overrun_ms, fit_s,
//   queue: [{ id, eta, end, at_risk }] } (null where the contract has none),
// or null for a snapshot the projection cannot read.
export function project(room, now) {
  try {
    return compute(room, now);
  } catch {
    return null;
  }
}

function compute(room, now) {
  if (!room || typeof room !== 'object' || !int(now)) return null;
  const { settings, queue } = room;
  if (!settings || typeof settings !== 'object' || !Array.isArray(queue)) return null;
  const l = {
    speech: setting(settings, 'speech_s', 180) * 1000,
    reply: setting(settings, 'reply_s', 60) * 1000,
    point_of_order: setting(settings, 'point_of_order_s', 60) * 1000,
    changeover: setting(settings, 'changeover_s', 15) * 1000,
  };
  if (l.changeover > 600000) return null;
  let sched = null;
  if (room.schedule && typeof room.schedule === 'object') {
    if (!int(room.schedule.starts_at) || !int(room.schedule.ends_at)) return null;
    sched = room.schedule;
  }
  const scheduled = room.status === 'scheduled';
  const start = scheduled && sched && sched.starts_at > now ? sched.starts_at : now;
  const floor = room.floor;
  let remaining = 0;
  if (floor && typeof floor === 'object') {
    if (!int(floor.limit_s) || !int(floor.elapsed_ms) || !int(floor.started_at)) return null;
    let elapsed = floor.elapsed_ms;
    if (floor.paused !== true && now > floor.started_at) elapsed += now - floor.started_at;
    remaining = Math.max(0, floor.limit_s * 1000 - elapsed);
  } else if (floor != null) {
    return null;
  }
  const items = [];
  let t = start + remaining + (floor ? l.changeover : 0);
  let nonspeech = 0;
  let speeches = 0;
  queue.forEach((q, i) => {
    if (!q || typeof q.id !== 'string') throw new Error('queue');
    if (i) t += l.changeover;
    const eta = t;
    t += limitOf(l, q.kind);
    items.push({ id: q.id, eta, end: t, at_risk: false });
    if (q.kind && q.kind !== 'speech') nonspeech += limitOf(l, q.kind);
    else speeches++;
  });
  const listEnd = items.length ? items[items.length - 1].end : start + remaining;
  const e = segmentEnd(room, scheduled, sched);
  const out = {
    start, remaining_ms: remaining, segment_end: e, list_end: listEnd, overrun_ms: null, fit_s: null, queue: items,
  };
  if (e === null) return out;
  for (const it of items) it.at_risk = it.end > e;
  out.overrun_ms = Math.max(0, listEnd - e);
  if (speeches) {
    const base = start + remaining + (floor ? l.changeover : 0) + nonspeech + (items.length - 1) * l.changeover;
    const avail = e - base;
    const s = avail >= 0 ? Math.floor(avail / (1000 * speeches)) : -1;
    if (s >= MIN_FIT_S) out.fit_s = Math.min(s, MAX_FIT_S);
  }
  return out;
}
