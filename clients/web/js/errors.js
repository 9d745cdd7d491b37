// A refused command's message, shown next to the control that sent it.
// Controls and their message share a key: the message node has
// data-err=key and id err-<key> (the control's aria-describedby).
import { el } from './dom.js';

export function errorNode(key, s) {
  const msg = s ? s.errors.get(key) : '';
  return el('p', { class: 'error', 'data-err': key, id: `err-${key}`, role: 'alert', hidden: !msg }, msg || '');
}

// Refreshes every message node on the page from the store.
export function renderErrors(root, s) {
  for (const n of root.querySelectorAll('[data-err]')) {
    const msg = s.errors.get(n.dataset.err) || '';
    if (n.textContent !== msg) n.textContent = msg;
    n.hidden = !msg;
  }
}
