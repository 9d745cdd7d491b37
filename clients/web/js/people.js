// The "Participants" region: chairs and delegates with their online state,
// the observer count, and for the chair Mute/Unmute and Remove participant.
import { el, userText, srOnly, replaceKeepFocus } from './dom.js';
import { CMD } from './names.js';
import { roleLabel, count, who } from './format.js';
import { isMuted } from './store.js';
import { errorNode } from './errors.js';

const RANK = { moderator: 0, delegate: 1 };

export function sortedPeople(s) {
  return [...s.participants.values()]
    .filter((p) => p.role !== 'observer')
    .sort((a, b) => (RANK[a.role] ?? 2) - (RANK[b.role] ?? 2)
      || String(a.delegation || a.name).localeCompare(String(b.delegation || b.name))
      || String(a.name).localeCompare(String(b.name)));
}

export function createPeople(ctx, { chair }) {
  const heading = el('h2', { id: 'people-h', tabindex: '-1' }, 'Participants');
  const summary = el('span', { class: 'card-note' });
  const list = el('ul', { class: 'people', 'aria-labelledby': 'people-h' });
  const observers = el('strong');
  const node = el('section', { class: 'card people-card', 'aria-labelledby': 'people-h', id: 'people' },
    el('div', { class: 'card-head' }, heading, summary),
    list,
    el('p', { class: 'observers' }, 'Observers: ', observers));

  function row(s, p) {
    const me = s.you && p.sub === s.you.sub;
    const muted = isMuted(s, p.sub);
    const key = `person:${p.sub}`;
    let ctl = null;
    if (chair && !me && p.role === 'delegate') {
      const person = who(p);
      ctl = el('div', { class: 'person-ctl' },
        el('button', { type: 'button', class: 'btn btn-small', 'data-key': `mute:${p.sub}`, 'aria-label': `${muted ? 'Unmute' : 'Mute'} ${person}`, 'aria-describedby': `err-${key}`,
          onclick: () => ctx.act(key, { type: muted ? CMD.UNMUTE : CMD.MUTE, sub: p.sub }) }, muted ? 'Unmute' : 'Mute'),
        el('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-key': `kick:${p.sub}`, 'aria-label': `Remove participant: ${person}`, 'aria-haspopup': 'dialog',
          onclick: (e) => ctx.confirmRemove(p, e.currentTarget) }, 'Remove'));
    }
    return el('li', { class: `person${p.online ? ' is-online' : ''}`, 'data-sub': p.sub },
      el('span', { class: `dot ${p.online ? 'on' : 'off'}`, 'aria-hidden': 'true' }),
      el('span', { class: 'person-who' },
        userText(p.name, 'name'),
        p.delegation ? userText(p.delegation, 'deleg') : null,
        srOnly(p.online ? ', online' : ', offline')),
      el('span', { class: 'person-tags' },
        p.role === 'moderator' ? el('span', { class: 'tag tag-chair' }, roleLabel(p.role)) : null,
        me ? el('span', { class: 'tag tag-you' }, 'You') : null,
        muted ? el('span', { class: 'tag tag-muted' }, 'Muted') : null),
      ctl, errorNode(key, s));
  }

  let lastSig = '';
  function update(s) {
    const people = sortedPeople(s);
    const online = people.filter((p) => p.online).length;
    summary.textContent = `${online} of ${people.length} online`;
    observers.textContent = count(s.observers);
    const sig = JSON.stringify([people.map((p) => [p.sub, p.name, p.delegation, p.role, p.online, isMuted(s, p.sub), s.errors.get(`person:${p.sub}`) || '']), s.you && s.you.sub]);
    if (sig === lastSig) return;
    lastSig = sig;
    replaceKeepFocus(list, people.map((p) => row(s, p)), heading);
  }

  return { node, update };
}
