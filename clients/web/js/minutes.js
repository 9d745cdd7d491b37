// The print-ready minutes (contract 9.6, web-client.md): the chair's
// Markdown record, fetched with the chair's room token (from the address
// #t=... or the meeting tab's sessionStorage) and shown as a document with
// a print stylesheet. The Markdown is the server's own (transcript.c) and
// uses a small subset: headings, paragraphs, "- " items with **bold**,
// "> " quotes, tables, `code`, and backslash escapes. Everything reaches
// the page as text nodes.
import { el } from './dom.js';

const TOKEN_KEY = 'rostrum.token';
const main = document.getElementById('minutes');
const status = document.getElementById('minutes-status');

function tokenNow() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const t = params.get('t');
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    history.replaceState(null, '', location.pathname + location.search);
    return t;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function roomOf(token) {
  try {
    const b = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(b)))).room;
  } catch { return null; }
}

// Inline Markdown: **bold**, `code`, and \x escapes, as nodes.
function inline(text) {
  const out = [];
  let buf = '';
  const flush = () => { if (buf) { out.push(document.createTextNode(buf)); buf = ''; } };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) { buf += text[++i]; continue; }
    if (c === '`') {
      const j = text.indexOf('`', i + 1);
      if (j > i) { flush(); out.push(el('code', {}, text.slice(i + 1, j))); i = j; continue; }
    }
    if (c === '*' && text[i + 1] === '*') {
      const j = text.indexOf('**', i + 2);
      if (j > i) { flush(); out.push(el('strong', {}, inline(text.slice(i + 2, j)))); i = j + 1; continue; }
    }
    buf += c;
  }
  flush();
  return out;
}

function cells(line) {
  const parts = [];
  let cur = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && i + 1 < body.length) { cur += body[i] + body[i + 1]; i++; continue; }
    if (body[i] === '|') { parts.push(cur.trim()); cur = ''; continue; }
    cur += body[i];
  }
  parts.push(cur.trim());
  return parts;
}

export function render(md) {
  const nodes = [];
  const lines = md.replace(/\r/g, '').split('\n');
  let list = null;
  let item = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#{1,4} /.test(line)) {
      list = null; item = null;
      const level = line.indexOf(' ');
      nodes.push(el(`h${level}`, {}, inline(line.slice(level + 1))));
    } else if (line.startsWith('|')) {
      list = null; item = null;
      const rows = [];
      while (i < lines.length && lines[i].startsWith('|')) rows.push(lines[i++]);
      i--;
      const head = cells(rows[0]);
      const body = rows.slice(2).map(cells);
      nodes.push(el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, inline(h))))),
        el('tbody', {}, body.map((r) => el('tr', {}, r.map((c) => el('td', {}, inline(c))))))));
    } else if (/^- /.test(line)) {
      if (!list) { list = el('ul', {}); nodes.push(list); }
      item = el('li', {}, inline(line.slice(2)));
      list.append(item);
    } else if (/^ {2}> ?/.test(line) && item) {
      let q = item.querySelector(':scope > blockquote');
      if (!q) { q = el('blockquote', {}); item.append(q); }
      q.append(el('p', { dir: 'auto' }, inline(line.replace(/^ {2}> ?/, ''))));
    } else if (/^> ?/.test(line)) {
      list = null; item = null;
      let q = nodes[nodes.length - 1];
      if (!q || q.tagName !== 'BLOCKQUOTE') { q = el('blockquote', {}); nodes.push(q); }
      q.append(el('p', { dir: 'auto' }, inline(line.replace(/^> ?/, ''))));
    } else if (line.trim() === '') {
      if (!(lines[i + 1] || '').startsWith('  >')) { list = null; item = null; }
    } else {
      list = null; item = null;
      nodes.push(el('p', { dir: 'auto' }, inline(line)));
    }
  }
  return nodes;
}

async function load() {
  const token = tokenNow();
  const room = token && roomOf(token);
  if (!room) { status.textContent = 'Open the minutes from the chair\'s page (Print the minutes).'; return; }
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(room)}/transcript?format=md`,
      { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!res.ok) throw new Error(res.status === 401 || res.status === 403 ? 'only the meeting\'s chair can open the minutes' : `the server answered ${res.status}`);
    main.replaceChildren(...render(await res.text()));
    document.title = `${main.querySelector('h1') ? main.querySelector('h1').textContent : room} · Minutes`;
    status.textContent = 'The minutes are ready to print.';
    document.body.dataset.ready = 'true';
  } catch (e) {
    status.textContent = `Cannot load the minutes: ${e.message}.`;
  }
}

document.getElementById('print').addEventListener('click', () => window.print());
load();
