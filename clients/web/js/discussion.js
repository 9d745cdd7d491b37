// The "Discussion" region: chat messages and announcements (newest at the
// bottom and scrolled into view), and the message box for those the chat
// rule allows (delegates, the chair; never observers).
import { el, userText } from './dom.js';
import { CMD, CHAT } from './names.js';
import { timeOfDay, fullTime, isoTime, roleLabel } from './format.js';
import { holdsFloor, isMuted } from './store.js';
import { errorNode } from './errors.js';

const MAX_CHARS = 2000;

export function createDiscussion(ctx, { role }) {
  const heading = el('h2', { id: 'disc-h' }, 'Discussion');
  const rule = el('span', { class: 'card-note' });
  const list = el('ol', { class: 'messages' });
  const log = el('div', { class: 'log', role: 'log', 'aria-label': 'Chat and announcements', tabindex: '0' }, list);
  const empty = el('p', { class: 'empty' }, 'No messages yet.');
  const note = el('p', { class: 'chat-note', role: 'status', 'aria-live': 'polite' });
  const rendered = new Map(); // seq -> li

  let composer = null;
  let input = null;
  let sendBtn = null;
  let announceBtn = null;
  const chair = role === 'moderator';
  if (role === 'moderator' || role === 'delegate') {
    input = el('input', { id: 'msg', type: 'text', class: 'input', maxlength: String(MAX_CHARS), autocomplete: 'off', dir: 'auto', 'aria-describedby': 'err-compose' });
    sendBtn = el('button', { type: 'submit', class: 'btn btn-primary', 'data-key': 'send' }, 'Send');
    if (chair) {
      announceBtn = el('button', { type: 'button', class: 'btn', 'data-key': 'announce', onclick: () => submit(CMD.ANNOUNCE) }, 'Announce');
    }
    composer = el('form', { class: 'composer', novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(sendBtn.hidden ? CMD.ANNOUNCE : CMD.SAY); } },
      el('label', { for: 'msg', class: 'composer-label' }, chair ? 'Message or announcement' : 'Message'),
      el('div', { class: 'composer-row' }, input, sendBtn, announceBtn),
      errorNode('compose'));
  }

  async function submit(type) {
    const text = input.value.trim();
    if (!text) {
      ctx.s.errors.set('compose', 'Type a message first.');
      ctx.render();
      input.focus();
      return;
    }
    const r = await ctx.act('compose', { type, text });
    if (r && r.ok) input.value = '';
  }

  const node = el('section', { class: 'card discussion', 'aria-labelledby': 'disc-h', id: 'discussion' },
    el('div', { class: 'card-head' }, heading, rule),
    log, empty, note, composer);

  function message(s, ev) {
    const d = ev.data || {};
    const from = d.from || {};
    const announce = d.kind === 'announcement';
    const mine = s.you && from.sub === s.you.sub;
    return el('li', { class: `msg${announce ? ' msg-announcement' : ''}${mine ? ' is-mine' : ''}`, 'data-seq': String(ev.seq) },
      el('p', { class: 'msg-head' },
        announce ? el('span', { class: 'tag tag-announce' }, 'Announcement') : null,
        userText(from.name || (announce ? 'The chair' : 'Unknown'), 'msg-name'),
        from.delegation ? userText(from.delegation, 'msg-deleg') : null,
        !announce && from.role === 'moderator' ? el('span', { class: 'tag tag-chair' }, roleLabel('moderator')) : null,
        Number.isFinite(ev.ts) ? el('time', { datetime: isoTime(ev.ts), title: fullTime(ev.ts) }, timeOfDay(ev.ts)) : null),
      userText(d.text, 'msg-text', 'p'));
  }

  function update(s) {
    const settings = (s.room && s.room.settings) || {};
    const chat = settings.chat || CHAT.OPEN;
    rule.textContent = chat === CHAT.OFF ? 'Chat off' : chat === CHAT.FLOOR ? 'Chat: speaker only' : 'Chat open';

    // Messages: append what is new, keep what is shown (no flicker, no
    // duplicate), drop what the store dropped.
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    const want = new Set(s.messages.map((m) => m.seq));
    for (const [seq, li] of rendered) if (!want.has(seq)) { li.remove(); rendered.delete(seq); }
    let added = false;
    for (const ev of s.messages) {
      if (rendered.has(ev.seq)) continue;
      const li = message(s, ev);
      let before = null;
      for (const [seq, other] of rendered) if (seq > ev.seq && (!before || seq < Number(before.dataset.seq))) before = other;
      list.insertBefore(li, before);
      rendered.set(ev.seq, li);
      added = true;
    }
    empty.hidden = rendered.size > 0;
    if (added && atBottom) log.scrollTop = log.scrollHeight;

    if (!composer) return;
    const me = s.you && s.you.sub;
    let allowed = true;
    let why = '';
    if (!chair) {
      if (chat === CHAT.OFF) { allowed = false; why = 'Chat is off. Only the chair can post announcements.'; }
      else if (chat === CHAT.FLOOR && !holdsFloor(s, me)) { allowed = false; why = 'Only the speaker holding the floor can write in the chat now.'; }
    }
    const muted = isMuted(s, me);
    if (allowed && muted && !chair) why = 'The chair has muted you: your messages will be refused until you are unmuted.';
    // Out of the page, not just hidden, when the rule does not allow it.
    if (!allowed && composer.parentNode) composer.remove();
    else if (allowed && !composer.parentNode) node.append(composer);
    if (chair) sendBtn.hidden = chat === CHAT.OFF;
    if (note.textContent !== why) note.textContent = why;
  }

  return { node, update, scrollToEnd: () => { log.scrollTop = log.scrollHeight; } };
}
