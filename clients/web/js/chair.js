// The chair's controls: the floor (next speaker, end, pause/resume, add
// time, give the floor to anyone), the meeting (agenda item, status),
// settings, speaking-time statistics, and the confirmation before removing
// a participant. Built only for moderators.
import { el, userText, fill } from './dom.js';
import { CMD, STATUS_LIST, CHAT_LIST, ORDER_LIST, TIMEUP_LIST } from './names.js';
import { clock, spokenDuration, statusLabel, who, CHAT_LABELS, ORDER_LABELS, TIMEUP_LABELS } from './format.js';
import { queue, statsByDelegation } from './store.js';
import { errorNode } from './errors.js';
import { sortedPeople } from './people.js';

// Bidi isolation for user text inside a plain string (an <option> cannot
// hold elements): FSI ... PDI.
const isolate = (t) => `\u2068${t}\u2069`;

const EXTEND_CHOICES = [15, 30, 60, 120, 300];

export function createFloorControls(ctx) {
  const nextHint = el('p', { class: 'next-hint', id: 'next-hint' });
  const next = el('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'next', 'aria-describedby': 'next-hint err-floor',
    onclick: () => {
      const head = queue(ctx.s)[0];
      ctx.act('floor', head ? { type: CMD.GRANT, request_id: head.id } : { type: CMD.GRANT });
    } }, 'Next speaker');
  const end = el('button', { type: 'button', class: 'btn', 'data-key': 'end', 'aria-describedby': 'err-floor',
    onclick: () => ctx.act('floor', { type: CMD.END_FLOOR }) }, 'End the floor');
  const pause = el('button', { type: 'button', class: 'btn', 'data-key': 'pause', 'aria-describedby': 'err-floor',
    onclick: () => {
      const f = ctx.s.room && ctx.s.room.floor;
      ctx.act('floor', { type: f && f.paused ? CMD.RESUME : CMD.PAUSE });
    } }, 'Pause');
  const secs = el('select', { id: 'extend-s', class: 'select select-small' },
    EXTEND_CHOICES.map((n) => el('option', { value: String(n), selected: n === 60 }, n < 60 ? `${n} s` : `${n / 60} min`)));
  const extend = el('button', { type: 'button', class: 'btn', 'data-key': 'extend', 'aria-describedby': 'err-floor',
    onclick: () => ctx.act('floor', { type: CMD.EXTEND, seconds: Number(secs.value) }) }, 'Add time');

  const giveSel = el('select', { id: 'give-sub', class: 'select' });
  const give = el('button', { type: 'button', class: 'btn', 'data-key': 'give', 'aria-describedby': 'err-give',
    onclick: () => {
      if (!giveSel.value) { ctx.s.errors.set('give', 'Choose a participant first.'); ctx.render(); return; }
      ctx.act('give', { type: CMD.GRANT, sub: giveSel.value });
    } }, 'Give the floor');

  const node = el('div', { class: 'chair-floor', role: 'group', 'aria-label': 'Floor controls' },
    el('div', { class: 'ctl-row' }, next, end, pause,
      el('span', { class: 'ctl-pair' }, el('label', { for: 'extend-s', class: 'sr-only' }, 'Time to add'), secs, extend)),
    nextHint,
    errorNode('floor'),
    el('div', { class: 'ctl-row ctl-give' },
      el('label', { for: 'give-sub' }, 'Give the floor directly to'), giveSel, give),
    errorNode('give'));

  let giveSig = '';
  let nextSig = null;
  function update(s) {
    const f = s.room && s.room.floor;
    const q = queue(s);
    end.disabled = !f;
    pause.disabled = !f;
    extend.disabled = !f;
    const want = f && f.paused ? 'Resume' : 'Pause';
    if (pause.textContent !== want) pause.textContent = want;
    const nsig = q.length ? `${q[0].name}|${q[0].delegation}` : '';
    if (nsig !== nextSig) {
      nextSig = nsig;
      if (q.length) fill(nextHint, 'Next on the list: ', userText(q[0].name, 'name'), q[0].delegation ? [' (', userText(q[0].delegation), ')'] : null);
      else nextHint.textContent = 'The speakers list is empty.';
    }
    const people = sortedPeople(s);
    const sig = JSON.stringify(people.map((p) => [p.sub, p.name, p.delegation]));
    if (sig !== giveSig) {
      giveSig = sig;
      const keep = giveSel.value;
      fill(giveSel, el('option', { value: '' }, 'Choose a participant'),
        people.map((p) => el('option', { value: p.sub }, p.delegation ? `${isolate(p.name)} (${isolate(p.delegation)})` : isolate(p.name))));
      if (people.some((p) => p.sub === keep)) giveSel.value = keep;
    }
  }
  return { node, update };
}

export function createMeetingControls(ctx) {
  const itemSel = el('select', { id: 'agenda-sel', class: 'select' });
  const itemBtn = el('button', { type: 'button', class: 'btn', 'data-key': 'agenda', 'aria-describedby': 'err-agenda',
    onclick: () => ctx.act('agenda', { type: CMD.SET_AGENDA_ITEM, item: itemSel.value }) }, 'Take up item');
  const statusSel = el('select', { id: 'status-sel', class: 'select' },
    STATUS_LIST.map((st) => el('option', { value: st }, statusLabel(st))));
  const statusBtn = el('button', { type: 'button', class: 'btn', 'data-key': 'status', 'aria-describedby': 'err-status',
    onclick: () => ctx.act('status', { type: CMD.SET_STATUS, status: statusSel.value }) }, 'Set status');
  const node = el('section', { class: 'card admin', 'aria-labelledby': 'meeting-h', id: 'meeting' },
    el('div', { class: 'card-head' }, el('h2', { id: 'meeting-h' }, 'Chair controls')),
    el('div', { class: 'field' }, el('label', { for: 'agenda-sel' }, 'Agenda item'),
      el('div', { class: 'field-row' }, itemSel, itemBtn)), errorNode('agenda'),
    el('div', { class: 'field' }, el('label', { for: 'status-sel' }, 'Meeting status'),
      el('div', { class: 'field-row' }, statusSel, statusBtn)), errorNode('status'));

  let sig = '';
  let lastItem;
  let lastStatus;
  function update(s) {
    const items = (s.room && s.room.agenda) || [];
    const cur = s.room && s.room.agenda_item;
    const ns = JSON.stringify(items);
    if (ns !== sig) {
      sig = ns;
      itemSel.replaceChildren(...items.map((it) => el('option', { value: it.id, dir: 'auto' }, it.title)));
      lastItem = undefined;
    }
    // Follow the room unless the chair is choosing right now.
    if (cur !== lastItem && document.activeElement !== itemSel) { if (cur) itemSel.value = cur; lastItem = cur; }
    const st = s.room && s.room.status;
    if (st !== lastStatus && document.activeElement !== statusSel) { statusSel.value = st; lastStatus = st; }
    itemBtn.disabled = items.length === 0;
  }
  return { node, update };
}

export function createSettings(ctx) {
  const num = (id, label, min, max, hint) => {
    const input = el('input', { id, type: 'number', class: 'input input-num', min: String(min), max: String(max), step: '1', inputmode: 'numeric', 'aria-describedby': hint ? `${id}-hint` : null });
    return { input, field: el('div', { class: 'field' }, el('label', { for: id }, label), input, hint ? el('p', { class: 'hint', id: `${id}-hint` }, hint) : null) };
  };
  const sel = (id, label, values, labels) => {
    const input = el('select', { id, class: 'select' }, values.map((v) => el('option', { value: v }, labels[v] || v)));
    return { input, field: el('div', { class: 'field' }, el('label', { for: id }, label), input) };
  };
  const f = {
    speech_s: num('set-speech', 'Speech (seconds)', 1, 7200),
    reply_s: num('set-reply', 'Right of reply (seconds)', 1, 7200),
    point_of_order_s: num('set-poo', 'Point of order (seconds)', 1, 7200),
    replies_per_item: num('set-replies', 'Rights of reply per person and item', 0, 100),
    chat: sel('set-chat', 'Chat', CHAT_LIST, CHAT_LABELS),
    queue_order: sel('set-order', 'Speakers list order', ORDER_LIST, ORDER_LABELS),
    on_time_up: sel('set-timeup', 'When time is up', TIMEUP_LIST, TIMEUP_LABELS),
  };
  const pod = el('input', { id: 'set-pod', type: 'checkbox', class: 'check' });
  const saved = el('p', { class: 'saved', role: 'status' });
  const save = el('button', { type: 'submit', class: 'btn btn-primary', 'data-key': 'settings', 'aria-describedby': 'err-settings' }, 'Save settings');
  let dirty = false;
  let current = {};
  const form = el('form', { class: 'settings-form', novalidate: true,
    oninput: () => { dirty = true; saved.textContent = ''; },
    onchange: () => { dirty = true; saved.textContent = ''; },
    onsubmit: async (e) => {
      e.preventDefault();
      const patch = {};
      for (const [k, { input }] of Object.entries(f)) {
        const v = input.type === 'number' ? Number(input.value) : input.value;
        if (input.type === 'number' && (!Number.isInteger(v) || input.value === '')) {
          ctx.s.errors.set('settings', `Enter a whole number for “${input.labels[0].textContent}”.`);
          ctx.render(); input.focus(); return;
        }
        if (v !== current[k]) patch[k] = v;
      }
      if (pod.checked !== !!current.pause_on_disconnect) patch.pause_on_disconnect = pod.checked;
      if (!Object.keys(patch).length) { saved.textContent = 'Nothing to change.'; dirty = false; return; }
      const r = await ctx.act('settings', { type: CMD.UPDATE_SETTINGS, settings: patch });
      if (r && r.ok) { dirty = false; saved.textContent = 'Settings saved.'; ctx.render(); }
    } },
    el('fieldset', { class: 'fieldset' }, el('legend', {}, 'Speaking time'),
      el('div', { class: 'grid-fields' }, f.speech_s.field, f.reply_s.field, f.point_of_order_s.field)),
    el('fieldset', { class: 'fieldset' }, el('legend', {}, 'Rules'),
      el('div', { class: 'grid-fields' }, f.on_time_up.field, f.queue_order.field, f.chat.field, f.replies_per_item.field),
      el('div', { class: 'field field-check' }, pod, el('label', { for: 'set-pod' }, 'Pause the clock when the speaker loses the connection'))),
    el('div', { class: 'ctl-row' }, save, saved),
    errorNode('settings'));
  const node = el('section', { class: 'card settings', 'aria-labelledby': 'settings-h', id: 'settings' },
    el('div', { class: 'card-head' }, el('h2', { id: 'settings-h' }, 'Settings')), form);

  function update(s) {
    current = (s.room && s.room.settings) || {};
    if (dirty) return;
    for (const [k, { input }] of Object.entries(f)) {
      const v = current[k];
      if (v !== undefined && input.value !== String(v)) input.value = String(v);
    }
    pod.checked = !!current.pause_on_disconnect;
  }
  return { node, update };
}

export function createStats() {
  const body = el('tbody');
  const empty = el('p', { class: 'empty' }, 'Nobody has finished speaking yet.');
  const table = el('table', { class: 'stats' },
    el('caption', { class: 'sr-only' }, 'Speaking time by delegation, longest first'),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Delegation'), el('th', { scope: 'col', class: 'num' }, 'Turns'), el('th', { scope: 'col', class: 'num' }, 'Time'))),
    body);
  const node = el('section', { class: 'card stats-card', 'aria-labelledby': 'stats-h', id: 'stats' },
    el('div', { class: 'card-head' }, el('h2', { id: 'stats-h' }, 'Speaking time')), empty, table);
  let sig = '';
  function update(s) {
    const rows = statsByDelegation(s);
    const ns = JSON.stringify(rows);
    if (ns === sig) return;
    sig = ns;
    empty.hidden = rows.length > 0;
    table.hidden = rows.length === 0;
    body.replaceChildren(...rows.map((r) => el('tr', {},
      el('th', { scope: 'row' }, userText(r.label)),
      el('td', { class: 'num' }, String(r.turns)),
      el('td', { class: 'num' }, el('span', { 'aria-hidden': 'true' }, clock(r.spoken_ms)), el('span', { class: 'sr-only' }, spokenDuration(r.spoken_ms))))));
  }
  return { node, update };
}

// A modal confirmation before a participant is removed from the room.
export function createRemoveDialog(ctx) {
  const text = el('p', { id: 'rm-text' });
  const cancel = el('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => close() }, 'Cancel');
  const ok = el('button', { type: 'button', class: 'btn btn-danger', onclick: () => confirm() }, 'Yes, remove participant');
  const node = el('dialog', { class: 'dialog', 'aria-labelledby': 'rm-h', 'aria-describedby': 'rm-text' },
    el('h2', { id: 'rm-h' }, 'Remove participant?'), text,
    el('div', { class: 'dialog-actions' }, cancel, ok));
  let person = null;
  let opener = null;
  node.addEventListener('close', () => { if (opener && opener.isConnected && person) opener.focus(); });

  function open(p, from) {
    person = p;
    opener = from;
    text.replaceChildren(userText(who(p)), ' will be disconnected at once and cannot rejoin this meeting with their invite link.');
    node.showModal();
    cancel.focus();
  }
  function close() { node.close(); }
  async function confirm() {
    const p = person;
    person = null;
    node.close();
    const fallback = document.getElementById('people-h');
    if (fallback) fallback.focus();
    const r = await ctx.act(`person:${p.sub}`, { type: CMD.REMOVE, sub: p.sub });
    if (r && !r.ok && opener && opener.isConnected) opener.focus();
  }
  return { node, open };
}

