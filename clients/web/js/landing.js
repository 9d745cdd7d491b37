// What the page shows when it cannot show a room: no invite yet (how to get
// one, and a field to paste it), or a final message after the server ended
// the session for good (bad invite, removed, no such room).
import { el } from './dom.js';
import { CLOSE } from './names.js';

// Accepts a whole invite link (".../#t=TOKEN"), "#t=TOKEN", "t=TOKEN" or
// the bare token. Returns the token or null.
export function tokenFromText(text) {
  const v = String(text || '').trim();
  if (!v) return null;
  const m = v.match(/[#&?]t=([^&\s]+)/) || v.match(/^t=([^&\s]+)/);
  const t = m ? decodeURIComponent(m[1]) : v;
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t) ? t : null;
}

function inviteForm(onToken, labelText = 'Invite link') {
  const input = el('input', { id: 'invite', type: 'text', class: 'input', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'invite-hint invite-err' });
  const err = el('p', { class: 'error', id: 'invite-err', role: 'alert', hidden: true });
  return el('form', { class: 'invite-form', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const t = tokenFromText(input.value);
    if (!t) {
      err.textContent = 'That does not look like an invite link. Paste the whole link you received, for example https://meeting.example.org/#t=eyJhbGci…';
      err.hidden = false;
      input.focus();
      return;
    }
    onToken(t);
  } },
  el('label', { for: 'invite' }, labelText),
  el('p', { class: 'hint', id: 'invite-hint' }, 'Paste the link from your invitation, or just the token after “#t=”.'),
  el('div', { class: 'field-row' }, input, el('button', { type: 'submit', class: 'btn btn-primary' }, 'Join the meeting')),
  err);
}

export function showLanding(app, onToken) {
  document.title = 'Join a meeting · Rostrum';
  const node = el('section', { class: 'card landing', 'aria-labelledby': 'landing-h' },
    el('h2', { id: 'landing-h' }, 'Join a meeting'),
    el('p', { class: 'lead' }, 'Rostrum runs moderated meetings: a speakers list, the floor and its speaking time, and the discussion, live for everyone in the room.'),
    el('p', {}, 'You join with a personal invite link from the meeting’s organizer (the secretariat or the chair). Opening the link takes you straight into the room as a delegate, a chair or an observer: there is no account and no password.'),
    el('p', {}, 'The link looks like ', el('code', {}, 'https://…/#t=eyJhbGciOiJIUzI1NiIs…'), '. It is yours alone: do not forward it, since whoever opens it speaks in your name.'),
    inviteForm(onToken),
    el('h3', { class: 'sub-h' }, 'Organizing a meeting?'),
    el('p', {}, 'Create the room and its invite links with the rostrum command-line client or the admin API (',
      el('code', {}, 'POST /api/rooms/{id}/tokens'), '), then send each participant their link.'));
  app.replaceChildren(node);
}

const FINAL_TEXT = {
  unauthorized: ['Your invite link is not valid', 'It may have expired, been mistyped, or been replaced. Ask the meeting’s organizer for a new invite link, then open it or paste it below.'],
  removed: ['You have been removed from this meeting', 'The chair removed you from the room. Your invite link no longer opens this meeting. If you think this is a mistake, contact the secretariat.'],
  no_room: ['This meeting does not exist', 'The room named in your invite link was not found: it may have been deleted, or the link is for another server. Ask the meeting’s organizer for a current link.'],
};

export function showFinal(app, code, lastError, onToken) {
  const which = code === CLOSE.REMOVED ? 'removed' : code === CLOSE.NO_ROOM ? 'no_room' : 'unauthorized';
  const [title, text] = FINAL_TEXT[which];
  const node = el('section', { class: 'card final', 'aria-labelledby': 'final-h' },
    el('h2', { id: 'final-h', tabindex: '-1' }, title),
    el('p', {}, text),
    lastError && lastError.message ? el('p', { class: 'muted' }, `Server message: ${lastError.message}`) : null,
    which === 'unauthorized' ? inviteForm(onToken, 'New invite link') : null);
  app.replaceChildren(node);
  document.title = `${title} · Rostrum`;
  node.querySelector('h2').focus();
  return { title };
}
