// Contract 9.4-9.6 in the browser: published statements ("Statements"),
// the conclusions with the record's fingerprint ("Conclusions"), the
// delegate's "Attach a statement", the interpreter's statements of the
// current and next speakers, and the chair's "Accept in writing",
// "Publish the conclusions", "Download the record" and "Print the minutes".
// Statement texts reach the page as text nodes only (el/userText).
import { el, userText, replaceKeepFocus, fill } from './dom.js';
import { CMD } from './names.js';
import { who, timeOfDay, isoTime, languageLabel } from './format.js';
import { queue } from './store.js';
import { errorNode } from './errors.js';

const TOKEN_KEY = 'rostrum.token';

function speaker(d) {
  const name = who(d);
  return d.region ? `${name}, ${d.region}` : name;
}

// ---- everyone: the published statements ----
export function createStatements() {
  const heading = el('h2', { id: 'stmts-h', tabindex: '-1' }, 'Statements');
  const list = el('ol', { class: 'statements', 'aria-labelledby': 'stmts-h' });
  const empty = el('p', { class: 'empty' }, 'No statement has been published yet.');
  const node = el('section', { class: 'card statements-card', 'aria-labelledby': 'stmts-h', id: 'statements' },
    el('div', { class: 'card-head' }, heading), empty, list);
  let sig = '';
  function update(s) {
    const all = s.statements || [];
    empty.hidden = all.length > 0;
    const now = JSON.stringify(all.map((e) => e.seq));
    if (now === sig) return;
    sig = now;
    fill(list, all.map((e) => {
      const d = e.data || {};
      return el('li', { class: `statement ${d.delivered ? 'is-delivered' : 'is-written'}` },
        el('p', { class: 'statement-head' },
          userText(speaker(d), 'name'),
          el('span', { class: `tag ${d.delivered ? 'tag-open' : 'tag-closed'}` }, d.delivered ? 'Delivered (check against delivery)' : 'Circulated in writing'),
          d.lang ? el('span', { class: 'muted' }, ` in ${languageLabel(d.lang)}`) : null,
          Number.isFinite(e.ts) ? el('time', { class: 'entry-time', datetime: isoTime(e.ts) }, ` ${timeOfDay(e.ts)}`) : null),
        userText(d.text, 'statement-text', 'p'));
    }));
  }
  return { node, update };
}

// ---- everyone: the conclusions and the record's fingerprint ----
export function createConclusions() {
  const heading = el('h2', { id: 'concl-h', tabindex: '-1' }, 'Conclusions');
  const body = el('div', { class: 'conclusions-body' });
  const empty = el('p', { class: 'empty' }, 'The chair has not published conclusions yet.');
  const node = el('section', { class: 'card conclusions-card', 'aria-labelledby': 'concl-h', id: 'conclusions' },
    el('div', { class: 'card-head' }, heading), empty, body);
  let seq = -1;
  function update(s) {
    const c = s.conclusions;
    empty.hidden = !!c;
    if (!c || c.seq === seq) return;
    seq = c.seq;
    const d = c.data || {};
    const h = String(d.record_hash || '');
    fill(body,
      userText(d.text, 'conclusions-text', 'p'),
      el('p', { class: 'conclusions-by muted' }, 'Presented by ', userText(who(d.from || {}), 'name'),
        Number.isFinite(c.ts) ? ` at ${timeOfDay(c.ts)}` : ''),
      el('p', { class: 'fingerprint' },
        'Record fingerprint: ', el('code', { class: 'fp' }, h.slice(0, 16)),
        ` (seq ${c.seq - 1})`,
        el('span', { class: 'sr-only' }, `; the full hash is ${h}`)));
  }
  return { node, update };
}

// ---- delegate: attach or replace a statement (paste or a text file) ----
export function createStatementForm(ctx) {
  const heading = el('h3', { class: 'sub-h', id: 'stmt-h' }, 'Written statement');
  const sel = el('select', { id: 'stmt-req', class: 'select' });
  const text = el('textarea', { id: 'stmt-text', class: 'textarea', rows: '5', maxlength: '20000', dir: 'auto' });
  const file = el('input', { type: 'file', id: 'stmt-file', accept: '.txt,.md,text/plain,text/markdown' });
  const note = el('p', { class: 'muted', id: 'stmt-note', 'aria-live': 'polite' });
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    if (f.size > 256 * 1024) { ctx.s.errors.set('stmt', 'That file is too large for a statement (20,000 characters at most).'); ctx.render(); return; }
    text.value = await f.text();
    note.textContent = `Loaded ${f.name}: ${[...text.value].length} characters. Check it, then attach it.`;
  });
  const attach = el('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'stmt', 'aria-describedby': 'stmt-note err-stmt',
    onclick: async () => {
      const id = sel.value;
      if (!id) { ctx.s.errors.set('stmt', 'Ask for the floor first: a statement belongs to a request.'); ctx.render(); return; }
      if (!text.value.trim()) { ctx.s.errors.set('stmt', 'Paste the statement or choose a text file first.'); ctx.render(); return; }
      const r = await ctx.act('stmt', { type: CMD.DEPOSIT_STATEMENT, request_id: id, text: text.value });
      if (r.ok) { note.textContent = 'Statement attached. You can replace it until you are given the floor.'; ctx.announce('Statement attached.'); }
    } }, 'Attach a statement');
  const node = el('div', { class: 'stmt-form', role: 'group', 'aria-labelledby': 'stmt-h' },
    heading,
    el('p', { class: 'muted' }, 'Handed in before delivery: only the chair and the interpreters read it; everyone sees it once you have spoken, or if the chair takes it in writing.'),
    el('div', { class: 'field' }, el('label', { for: 'stmt-req' }, 'For your request'), sel),
    el('div', { class: 'field' }, el('label', { for: 'stmt-text' }, 'Statement text (paste it here)'), text),
    el('div', { class: 'field' }, el('label', { for: 'stmt-file' }, 'Or load it from a text file'), file),
    attach, note, errorNode('stmt'));
  let sig = '';
  function update(s) {
    const me = s.you && s.you.sub;
    const own = queue(s).filter((r) => r.sub === me);
    node.hidden = own.length === 0;
    const now = JSON.stringify(own.map((r) => [r.id, r.kind, r.statement || null]));
    if (now === sig) return;
    sig = now;
    const keep = sel.value;
    fill(sel, own.map((r) => el('option', { value: r.id, selected: r.id === keep },
      `${r.kind === 'speech' ? 'Speech' : r.kind === 'reply' ? 'Right of reply' : 'Point of order'}${r.statement ? ` (statement attached: ${r.statement.chars} characters)` : ''}`)));
  }
  return { node, update };
}

// ---- interpreter: the statements of the current and the next speakers ----
export function createInterpreterView(ctx) {
  const heading = el('h2', { id: 'interp-h', tabindex: '-1' }, 'Statements to interpret');
  const list = el('div', { class: 'interp-list' });
  const empty = el('p', { class: 'empty' }, 'Neither the current speaker nor those next on the list handed in a statement.');
  const node = el('section', { class: 'card interp', 'aria-labelledby': 'interp-h', id: 'interp' },
    el('div', { class: 'card-head' }, heading), empty, list);
  const texts = new Map(); // request id -> {key, text, lang} ("key": chars+lang, refetched on change)
  const asking = new Set();
  function wanted(s) {
    const out = [];
    const f = s.room && s.room.floor;
    if (f && f.request_id) out.push({ id: f.request_id, who: f, now: true });
    for (const r of queue(s)) if (r.statement) out.push({ id: r.id, who: r, summary: r.statement });
    return out.slice(0, 4);
  }
  async function fetchOne(id, key) {
    if (asking.has(id)) return;
    asking.add(id);
    const r = await ctx.send({ type: CMD.GET_STATEMENT, request_id: id });
    asking.delete(id);
    if (r.ok && r.statement) texts.set(id, { key, text: r.statement.text, lang: r.statement.lang });
    else texts.set(id, { key, missing: true });
    ctx.render();
  }
  let sig = '';
  function update(s) {
    const w = wanted(s);
    for (const x of w) {
      const key = JSON.stringify(x.summary || 'floor');
      const have = texts.get(x.id);
      if (!have || have.key !== key) fetchOne(x.id, key);
    }
    const shown = w.filter((x) => { const t = texts.get(x.id); return t && !t.missing; });
    empty.hidden = shown.length > 0;
    const now = JSON.stringify(shown.map((x) => [x.id, texts.get(x.id).text.length, texts.get(x.id).key, !!x.now]));
    if (now === sig) return;
    sig = now;
    replaceKeepFocus(list, shown.map((x, i) => {
      const t = texts.get(x.id);
      return el('article', { class: `interp-stmt${x.now ? ' is-now' : ''}`, 'aria-label': `${x.now ? 'Speaking now' : `Next ${i}`}: ${who(x.who)}` },
        el('h3', { class: 'sub-h' }, x.now ? 'Speaking now: ' : 'Next: ', userText(who(x.who), 'name'),
          t.lang ? el('span', { class: 'muted' }, ` (${languageLabel(t.lang)})`) : null),
        userText(t.text, 'statement-text', 'p'));
    }), heading);
  }
  return { node, update };
}

// ---- chair: accept a waiting request in writing (a button per entry) ----
export function acceptButton(ctx, r, key) {
  if (!r.statement) return null;
  return el('button', { type: 'button', class: 'btn btn-small', 'data-key': `written:${r.id}`, 'aria-label': `Accept in writing: ${who(r)}`, 'aria-describedby': `err-${key}`,
    onclick: () => ctx.act(key, { type: CMD.ACCEPT_WRITTEN, request_id: r.id }) }, 'Accept in writing');
}

// ---- chair: conclusions and the record ----
export function createRecordControls(ctx) {
  const heading = el('h2', { id: 'rec-h', tabindex: '-1' }, 'Conclusions and record');
  const text = el('textarea', { id: 'concl-text', class: 'textarea', rows: '4', maxlength: '20000', dir: 'auto' });
  const publish = el('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'concl', 'aria-describedby': 'err-concl',
    onclick: async () => {
      if (!text.value.trim()) { ctx.s.errors.set('concl', 'Write the conclusions first.'); ctx.render(); return; }
      const r = await ctx.act('concl', { type: CMD.PUBLISH_CONCLUSIONS, text: text.value });
      if (r.ok) { text.value = ''; ctx.announce('Conclusions published.'); }
    } }, 'Publish the conclusions');
  const fmt = el('select', { id: 'rec-format', class: 'select' },
    el('option', { value: 'json' }, 'JSON (signed, verifiable)'),
    el('option', { value: 'md' }, 'Markdown minutes'),
    el('option', { value: 'csv' }, 'CSV'));
  const download = el('button', { type: 'button', class: 'btn', 'data-key': 'download', 'aria-describedby': 'err-record',
    onclick: () => downloadRecord(ctx, fmt.value) }, 'Download the record');
  const print = el('button', { type: 'button', class: 'btn', 'data-key': 'print', 'aria-describedby': 'err-record',
    onclick: () => { window.open('minutes.html', '_blank'); } }, 'Print the minutes');
  const node = el('section', { class: 'card record-ctl', 'aria-labelledby': 'rec-h', id: 'record-ctl' },
    el('div', { class: 'card-head' }, heading),
    el('div', { class: 'field' }, el('label', { for: 'concl-text' }, 'Conclusions (shown to everyone with the record\'s fingerprint)'), text),
    publish, errorNode('concl'),
    el('div', { class: 'ctl-row' }, el('label', { for: 'rec-format' }, 'Format'), fmt, download, print),
    errorNode('record'));
  return { node, update() {} };
}

async function downloadRecord(ctx, format) {
  const s = ctx.s;
  const token = sessionStorage.getItem(TOKEN_KEY);
  s.errors.delete('record');
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(s.room.id)}/transcript?format=${format}`,
      { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `${s.room.id}-record.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    ctx.announce('The record was downloaded.');
  } catch (e) {
    s.errors.set('record', `Cannot download the record: ${e.message}.`);
  }
  ctx.render();
}
