// The "Speakers list" region: the queue in order (<ol>), each entry with its
// kind, delegation, language and an online dot; for the chair, per-entry
// Grant / Move up / Move down / Remove from list, and Close/Open the list.
import { el, userText, srOnly, replaceKeepFocus } from './dom.js';
import { CMD } from './names.js';
import { kindLabel, languageLabel, timeOfDay, isoTime, who } from './format.js';
import { queue, isOnline } from './store.js';
import { errorNode } from './errors.js';
import { projection } from './timing.js';
import { balanceAdvice } from './balance.js';
import { acceptButton } from './record.js';

export function createQueue(ctx, { chair }) {
  const heading = el('h2', { id: 'queue-h', tabindex: '-1' }, 'Speakers list');
  const state = el('span', { class: 'tag' });
  const countNode = el('span', { class: 'card-note' });
  const list = el('ol', { class: 'speakers', 'aria-labelledby': 'queue-h' });
  const empty = el('p', { class: 'empty' }, 'Nobody has asked for the floor.');

  let listBtn = null;
  let listCtl = null;
  if (chair) {
    listBtn = el('button', { type: 'button', class: 'btn btn-small', 'data-key': 'list', 'aria-describedby': 'err-list',
      onclick: () => {
        const open = listIsOpen(ctx.s);
        ctx.act('list', { type: open ? CMD.CLOSE_LIST : CMD.OPEN_LIST });
      } }, 'Close the list');
    listCtl = el('div', { class: 'queue-ctl' }, listBtn, errorNode('list'));
  }

  const node = el('section', { class: 'card queue', 'aria-labelledby': 'queue-h', id: 'queue' },
    el('div', { class: 'card-head' }, heading, state, countNode),
    listCtl, list, empty);

  function entry(s, r, i, n, marks) {
    const me = s.you && r.sub === s.you.sub;
    const online = isOnline(s, r.sub);
    const person = who(r);
    const key = `entry:${r.id}`;
    const tags = el('span', { class: 'entry-tags' },
      el('span', { class: `tag kind-${r.kind}` }, kindLabel(r.kind)),
      r.lang ? el('span', { class: 'tag tag-lang', title: languageLabel(r.lang) },
        el('span', { 'aria-hidden': 'true' }, String(r.lang).toUpperCase()), srOnly(`speaks ${languageLabel(r.lang)}`)) : null,
      me ? el('span', { class: 'tag tag-you' }, 'You') : null,
      r.statement ? el('span', { class: 'tag tag-stmt', title: 'A written statement is attached' }, 'Statement') : null,
      // the chair's marks (contract 9.2, 9.3): at risk, and the balance advice
      marks.risk.has(r.id) ? el('span', { class: 'tag tag-risk' }, 'May not be reached') : null,
      marks.advice === r.id ? el('span', { class: 'tag tag-advice', title: 'The first waiting speech of the region heard least on this item' }, 'Advice: regional balance') : null,
      Number.isFinite(r.at) ? el('time', { class: 'entry-time', datetime: isoTime(r.at) }, srOnly('requested at '), timeOfDay(r.at)) : null);
    let ctl = null;
    if (chair) {
      ctl = el('div', { class: 'entry-ctl' },
        el('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-key': `grant:${r.id}`, 'aria-label': `Grant the floor to ${person}`, 'aria-describedby': `err-${key}`,
          onclick: () => ctx.act(key, { type: CMD.GRANT, request_id: r.id }) }, 'Grant'),
        el('button', { type: 'button', class: 'btn btn-small', 'data-key': `up:${r.id}`, 'aria-label': `Move up: ${person}`, disabled: i === 0,
          onclick: () => ctx.act(key, { type: CMD.MOVE, request_id: r.id, to: i - 1 }) }, 'Up'),
        el('button', { type: 'button', class: 'btn btn-small', 'data-key': `down:${r.id}`, 'aria-label': `Move down: ${person}`, disabled: i === n - 1,
          onclick: () => ctx.act(key, { type: CMD.MOVE, request_id: r.id, to: i + 1 }) }, 'Down'),
        el('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-key': `rm:${r.id}`, 'aria-label': `Remove from list: ${person}`,
          onclick: () => ctx.act(key, { type: CMD.REMOVE_REQUEST, request_id: r.id }) }, 'Remove'),
        acceptButton(ctx, r, key));
    }
    return el('li', { class: `entry kind-${r.kind}${me ? ' is-me' : ''}${i === 0 ? ' is-next' : ''}`, 'data-id': r.id },
      el('span', { class: 'entry-pos', 'aria-hidden': 'true' }, String(i + 1)),
      el('span', { class: `dot ${online ? 'on' : 'off'}`, title: online ? 'Online' : 'Offline', 'aria-hidden': 'true' }),
      el('span', { class: 'entry-who' },
        userText(r.name, 'name'),
        r.delegation ? userText(r.delegation, 'deleg') : null,
        srOnly(online ? ', online' : ', offline')),
      tags, ctl, errorNode(key, s));
  }

  function update(s) {
    const q = queue(s);
    const open = listIsOpen(s);
    state.textContent = open ? 'Open' : 'Closed';
    state.className = `tag ${open ? 'tag-open' : 'tag-closed'}`;
    countNode.textContent = q.length === 1 ? '1 request' : `${q.length} requests`;
    if (listBtn) {
      const want = open ? 'Close the list' : 'Open the list';
      if (listBtn.textContent !== want) listBtn.textContent = want;
    }
    empty.hidden = q.length > 0;
    // Rebuild only when something shown changed: a rebuild between a
    // pointer's press and release would swallow the click.
    const marks = { risk: new Set(), advice: null };
    if (chair) {
      const p = projection(s);
      if (p) for (const it of p.queue) if (it.at_risk) marks.risk.add(it.id);
      const adv = balanceAdvice(s);
      marks.advice = adv ? adv.id : null;
    }
    const sig = JSON.stringify([q, q.map((r) => isOnline(s, r.sub)), q.map((r) => s.errors.get(`entry:${r.id}`) || ''), s.you && s.you.sub, [...marks.risk], marks.advice]);
    if (sig === lastSig) return;
    lastSig = sig;
    replaceKeepFocus(list, q.map((r, i) => entry(s, r, i, q.length, marks)), heading);
  }
  let lastSig = '';

  return { node, update };
}

function listIsOpen(s) {
  const st = s.room && s.room.settings;
  return !st || st.list_open !== false;
}
