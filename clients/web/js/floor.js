// The "Current speaker" region: who has the floor, for what, and the live
// countdown (role="timer"), computed locally from started_at / elapsed_ms /
// limit_s so it runs smoothly without a tick from the server.
import { el, userText, fill } from './dom.js';
import { clock, kindLabel, timeOfDay, isoTime } from './format.js';
import { spentMs } from './store.js';

const WARN_MS = 30000;

export function createFloor(ctx) {
  const kind = el('p', { class: 'floor-kind' });
  const name = el('p', { class: 'floor-name' });
  const deleg = el('p', { class: 'floor-deleg' });
  const since = el('p', { class: 'floor-since' });
  const badges = el('p', { class: 'floor-badges' });
  const who = el('div', { class: 'floor-who' }, kind, name, deleg, since, badges);
  const empty = el('p', { class: 'floor-empty' }, 'Nobody has the floor.');

  const label = el('p', { class: 'clock-label', id: 'timer-label', role: 'status', 'aria-live': 'polite' }, 'Time remaining');
  const digits = el('span', { class: 'clock-digits' }, '–:––');
  const over = el('span', { class: 'clock-over' });
  const timer = el('div', { role: 'timer', id: 'timer', class: 'clock-time', 'aria-labelledby': 'timer-label' }, digits, over);
  const barFill = el('span', { class: 'clock-fill' });
  const bar = el('div', { class: 'clock-bar', 'aria-hidden': 'true' }, barFill);
  const limit = el('p', { class: 'clock-limit' });
  const clockBox = el('div', { class: 'clock' }, label, timer, bar, limit);

  const body = el('div', { class: 'floor-body' }, who, empty, clockBox);
  const slot = el('div', { class: 'floor-controls' });
  const node = el('section', { class: 'card floor', 'aria-labelledby': 'floor-h', id: 'floor' },
    el('div', { class: 'card-head' }, el('h2', { id: 'floor-h' }, 'Current speaker')),
    body, slot);

  let lastKey = '';

  function update(s) {
    const f = s.room && s.room.floor;
    node.classList.toggle('has-floor', !!f);
    empty.hidden = !!f;
    who.hidden = !f;
    if (f) {
      const key = `${f.sub}|${f.name}|${f.delegation}|${f.kind}|${f.started_at}|${f.limit_s}|${f.paused}|${f.time_up}`;
      if (key !== lastKey) {
        lastKey = key;
        kind.textContent = kindLabel(f.kind);
        kind.className = `floor-kind kind-${f.kind}`;
        name.replaceChildren(userText(f.name));
        deleg.replaceChildren(f.delegation ? userText(f.delegation) : '');
        deleg.hidden = !f.delegation;
        const mine = s.you && f.sub === s.you.sub;
        // Paused and time up are said once, by the clock's label.
        fill(badges, mine ? el('span', { class: 'tag tag-you' }, 'You') : null);
        since.replaceChildren(floorSince(f) || '');
        limit.textContent = `Allotted ${clock(f.limit_s * 1000)}`;
      }
    } else {
      lastKey = '';
      limit.textContent = '';
    }
    tick(s);
  }

  function tick(s) {
    const f = s.room && s.room.floor;
    let text = '–:––';
    let state = 'idle';
    let labelText = 'Time remaining';
    let ratio = 0;
    if (f) {
      const limitMs = (Number(f.limit_s) || 0) * 1000;
      const spent = spentMs(s);
      const left = limitMs - spent;
      ratio = limitMs ? Math.min(1, spent / limitMs) : 1;
      if (left <= 0 && (spent > limitMs || f.time_up)) {
        text = `+${clock(spent - limitMs)}`;
        state = 'over';
        labelText = 'Time is up';
      } else {
        text = clock(left, true);
        state = left <= WARN_MS ? 'warn' : 'run';
      }
      if (f.paused) { labelText = state === 'over' ? 'Paused, over time' : 'Paused'; }
    }
    if (digits.textContent !== text) digits.textContent = text;
    const overText = state === 'over' ? ' overtime' : '';
    if (over.textContent !== overText) over.textContent = overText;
    if (label.textContent !== labelText) label.textContent = labelText;
    if (clockBox.dataset.state !== state) clockBox.dataset.state = state;
    clockBox.classList.toggle('paused', !!(f && f.paused));
    barFill.style.width = `${Math.round(ratio * 1000) / 10}%`;
  }

  return { node, slot, update, tick };
}

// "since 14:02" under the speaker's name: when this turn started, in the
// viewer's time zone.
export function floorSince(f) {
  if (!f || !Number.isFinite(f.started_at)) return null;
  const start = f.started_at - (Number(f.elapsed_ms) || 0);
  return el('time', { datetime: isoTime(start) }, `Speaking since ${timeOfDay(start)}`);
}
