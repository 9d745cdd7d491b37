// The "Agenda" region: every item, the current one marked; with a timed
// agenda (contract 9.1), each item's planned time and what it actually took
// as far as this page has seen, and reserved items shown as protected.
import { el, userText } from './dom.js';
import { itemTimeText } from './timing.js';

export function createAgenda(ctx) {
  const list = el('ol', { class: 'agenda', 'aria-labelledby': 'agenda-h' });
  const empty = el('p', { class: 'empty' }, 'No agenda items.');
  const node = el('section', { class: 'card agenda-card', 'aria-labelledby': 'agenda-h', id: 'agenda' },
    el('div', { class: 'card-head' }, el('h2', { id: 'agenda-h' }, 'Agenda')), list, empty);
  let lastSig = '';
  function update(s) {
    const items = (s.room && s.room.agenda) || [];
    const current = s.room && s.room.agenda_item;
    const sig = JSON.stringify([items, current, items.map((it) => itemTimeText(s, it))]);
    if (sig === lastSig) return;
    lastSig = sig;
    empty.hidden = items.length > 0;
    list.replaceChildren(...items.map((it) => {
      const cur = it.id === current;
      return el('li', { class: `agenda-item${cur ? ' is-current' : ''}`, 'aria-current': cur ? 'step' : null },
        userText(it.title, 'agenda-title'),
        cur ? el('span', { class: 'tag tag-current' }, 'Current item') : null,
        it.reserved === true ? el('span', { class: 'tag tag-protected', title: 'The speakers list does not eat into this segment' }, 'Protected') : null,
        itemTimeText(s, it) ? el('span', { class: 'agenda-times muted' }, itemTimeText(s, it)) : null);
    }));
  }
  return { node, update };
}

export function currentItem(s) {
  const items = (s.room && s.room.agenda) || [];
  return items.find((it) => it.id === (s.room && s.room.agenda_item)) || null;
}
