// The delegate's own panel ("Your participation"): ask for the floor
// (speech, right of reply, point of order) with an optional language,
// withdraw, yield, and where they stand on the list.
import { el, replaceKeepFocus } from './dom.js';
import { CMD, KIND } from './names.js';
import { kindLabel, languageLabel, LANGUAGES, ordinal } from './format.js';
import { queue, holdsFloor } from './store.js';
import { errorNode } from './errors.js';
import { myTiming, aboutMin } from './timing.js';

export function createDelegatePanel(ctx) {
  const heading = el('h2', { id: 'me-h', tabindex: '-1' }, 'Your participation');
  const status = el('p', { class: 'me-status', id: 'me-status', role: 'status', 'aria-live': 'polite' });
  // contract 9.2: when they may speak, and a warning when the segment may
  // end first (not live: it would speak every minute)
  const eta = el('p', { class: 'me-eta', id: 'me-eta' });
  const risk = el('p', { class: 'me-risk', id: 'me-risk', hidden: true });

  const yieldBtn = el('button', { type: 'button', class: 'btn btn-primary btn-wide', 'data-key': 'yield', 'aria-describedby': 'err-yield',
    onclick: () => ctx.act('yield', { type: CMD.YIELD }) }, 'Yield the floor');
  const yieldBox = el('div', { class: 'me-yield', hidden: true }, yieldBtn, errorNode('yield'));

  const lang = el('select', { id: 'req-lang', class: 'select' },
    el('option', { value: '' }, 'Not specified'),
    LANGUAGES.map(([code, label]) => el('option', { value: code }, label)));
  const request = (kind) => {
    const cmd = { type: CMD.REQUEST_FLOOR, kind };
    if (lang.value) cmd.lang = lang.value;
    return ctx.act('request', cmd);
  };
  const speech = el('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'req-speech', 'aria-describedby': 'err-request',
    onclick: () => request(KIND.SPEECH) }, 'Request the floor');
  const reply = el('button', { type: 'button', class: 'btn', 'data-key': 'req-reply', 'aria-describedby': 'err-request',
    onclick: () => request(KIND.REPLY) }, 'Right of reply');
  const poo = el('button', { type: 'button', class: 'btn btn-urgent', 'data-key': 'req-poo', 'aria-describedby': 'err-request',
    onclick: () => request(KIND.POINT_OF_ORDER) }, 'Point of order');

  const mineHead = el('h3', { class: 'sub-h', id: 'mine-h' }, 'Your requests');
  const mine = el('ul', { class: 'my-requests', 'aria-labelledby': 'mine-h' });
  const mineEmpty = el('p', { class: 'muted' }, 'You have no pending request.');

  const node = el('section', { class: 'card me', 'aria-labelledby': 'me-h', id: 'me' },
    el('div', { class: 'card-head' }, heading),
    status, eta, risk, yieldBox,
    el('div', { class: 'request-row', role: 'group', 'aria-label': 'Ask for the floor' }, speech, reply, poo),
    el('div', { class: 'field-inline' }, el('label', { for: 'req-lang' }, 'Language you will speak (optional)'), lang),
    errorNode('request'),
    mineHead, mineEmpty, mine);

  let lastStatus = '';
  let lastSig = '';

  function update(s) {
    const me = s.you && s.you.sub;
    const q = queue(s);
    const floor = holdsFloor(s, me);
    yieldBox.hidden = !floor;
    if (!floor && yieldBox.contains(document.activeElement)) speech.focus();

    const idx = q.findIndex((r) => r.sub === me);
    let text;
    let cls = 'me-status';
    if (floor) { text = 'You have the floor.'; cls += ' is-floor'; }
    else if (idx === 0) { text = 'You are next.'; cls += ' is-next'; }
    else if (idx > 0) { text = `You are ${ordinal(idx + 1)} on the speakers list (${idx} ${idx === 1 ? 'speaker' : 'speakers'} before you).`; }
    else { text = 'You are not on the speakers list.'; }
    if (text !== lastStatus) { status.textContent = text; lastStatus = text; }
    status.className = cls;
    tick(s);

    const own = q.map((r, i) => ({ r, i })).filter(({ r }) => r.sub === me);
    mineEmpty.hidden = own.length > 0;
    const sig = JSON.stringify([own, own.map(({ r }) => s.errors.get(`withdraw:${r.id}`) || '')]);
    if (sig === lastSig) return;
    lastSig = sig;
    replaceKeepFocus(mine, own.map(({ r, i }) => {
      const key = `withdraw:${r.id}`;
      const label = own.length > 1 ? `Withdraw ${kindLabel(r.kind).toLowerCase()} request` : 'Withdraw';
      return el('li', { class: 'my-request' },
        el('span', { class: `tag kind-${r.kind}` }, kindLabel(r.kind)),
        el('span', { class: 'my-pos' }, i === 0 ? 'next' : `${ordinal(i + 1)} on the list`),
        r.lang ? el('span', { class: 'muted' }, `in ${languageLabel(r.lang)}`) : null,
        el('button', { type: 'button', class: 'btn btn-small', 'data-key': key, 'aria-describedby': `err-${key}`,
          onclick: () => ctx.act(key, { type: CMD.WITHDRAW, request_id: r.id }) }, label),
        errorNode(key, s));
    }), heading);
  }

  // The estimate moves with the clock: refreshed by the page's tick.
  function tick(s) {
    const t = myTiming(s);
    const et = t ? `You may speak ${aboutMin(t.wait)}.` : '';
    if (eta.textContent !== et) eta.textContent = et;
    eta.hidden = !et;
    const rt = t && t.atRisk
      ? 'You may not be reached in this segment. You can keep your place (the chair may extend the time), withdraw, or ask the chair to take your statement in writing.'
      : '';
    if (risk.textContent !== rt) risk.textContent = rt;
    risk.hidden = !rt;
  }

  return { node, update, tick };
}
