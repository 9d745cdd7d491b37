// Tiny DOM helpers. Everything a user typed (names, delegations, messages,
// titles) reaches the page through text nodes only: el() never sets HTML.

// el('button', {class: 'x', onclick: fn}, 'text', childNode, ...)
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else if (k === 'value' || k === 'checked' || k === 'selected') e[k] = v;
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, String(v));
    }
  }
  appendAll(e, children);
  return e;
}

function appendAll(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// User text, bidi-isolated: names and messages in Arabic or Hebrew keep
// their own direction inside a left-to-right sentence and vice versa.
export function userText(text, cls, tag = 'span') {
  return el(tag, { dir: 'auto', class: cls }, text ?? '');
}

// Visually hidden text for screen readers.
export function srOnly(text) {
  return el('span', { class: 'sr-only' }, text);
}

// Replaces the children of `box`, keeping keyboard focus on the element with
// the same data-key (a list re-render must not throw a keyboard user back to
// the top of the page). When that element is gone, focus goes to the
// element at the same position among the new keyed elements, else to
// `fallback` (an element with tabindex=-1).
export function replaceKeepFocus(box, children, fallback) {
  const active = document.activeElement;
  let key = null;
  let index = -1;
  if (active && box.contains(active) && active.dataset && active.dataset.key) {
    key = active.dataset.key;
    index = [...box.querySelectorAll('[data-key]')].indexOf(active);
  }
  box.replaceChildren();
  appendAll(box, children);
  if (key === null) return;
  const same = box.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (same && !same.disabled) { same.focus(); return; }
  const keyed = [...box.querySelectorAll('[data-key]')].filter((n) => !n.disabled);
  if (keyed.length) { keyed[Math.min(index, keyed.length - 1)].focus(); return; }
  if (fallback) fallback.focus();
}

// Replaces the children of `node`, skipping null/false (unlike
// replaceChildren, which would print them).
export function fill(node, ...children) {
  node.replaceChildren();
  appendAll(node, children);
  return node;
}
