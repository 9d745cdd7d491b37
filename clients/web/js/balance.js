// The chair's "Regional balance" region (contract 9.3): per region and per
// category, turns and speaking time on the current agenda item and in
// total, and requests waiting; as advice only, a mark on the first waiting
// speech of the region heard least on this item. The chair decides.
//
// Totals come from the snapshot's stats and each speaker's region. The
// current item's figures come from the meeting record (fetched once with
// the chair's own token when the page joins) plus the floors that end
// while the page is open.
import { el, userText } from './dom.js';
import { EV } from './names.js';
import { clock, spokenDuration, who } from './format.js';
import { queue } from './store.js';

const CATEGORY_WORDS = {
  member_state: 'Member States', observer_state: 'Observer States', organization: 'Organizations',
  un_entity: 'UN entities', civil_society: 'Civil society', other: 'Others',
};
export const categoryLabel = (c) => CATEGORY_WORDS[c] || 'No category';
const regionLabel = (r) => r || 'No region';

function personOf(s, sub) {
  return s.participants.get(sub) || (s.you && s.you.sub === sub ? s.you : null) || null;
}

// ---- what the page learns: floors that end, the record at join ----

export function createBalanceState() {
  return { item: null, live: [], seed: null, seedSeq: 0, fetching: false };
}

// Called with each applied event and the floor as it was before it.
export function noteBalanceEvent(s, ev, floorBefore) {
  const b = s.balance || (s.balance = createBalanceState());
  const item = s.room && s.room.agenda_item;
  if (b.item !== item) { b.item = item; b.live = []; b.seed = null; }
  if (ev.name === EV.FLOOR_ENDED && floorBefore) {
    const p = personOf(s, floorBefore.sub);
    b.live.push({ seq: ev.seq, region: floorBefore.region || null, category: (p && p.category) || null,
      spoken_ms: Number(ev.data && ev.data.spoken_ms) || 0 });
  }
}

// Fetches the meeting record once (the chair's token may read it) to know
// the current item's figures from before the page joined.
export async function seedBalance(s, token) {
  const b = s.balance || (s.balance = createBalanceState());
  if (b.fetching || !s.room || !token) return false;
  b.fetching = true;
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(s.room.id)}/transcript?format=json`, {
      headers: { authorization: `Bearer ${token}` }, cache: 'no-store',
    });
    if (!res.ok) return false;
    const rec = await res.json();
    const item = s.room.agenda_item;
    const it = Array.isArray(rec.agenda) ? rec.agenda.find((a) => a.id === item) : null;
    const events = Array.isArray(rec.events) ? rec.events : [];
    b.item = item;
    b.seed = it || { regions: [], categories: [] };
    b.seedSeq = events.length ? events[events.length - 1].seq : 0;
    return true;
  } catch {
    return false;
  } finally {
    b.fetching = false;
  }
}

// ---- the figures ----

export function balanceRows(s) {
  const b = s.balance || createBalanceState();
  const regions = new Map();
  const cats = new Map();
  const row = (map, key) => {
    if (!map.has(key)) map.set(key, { key, item_turns: 0, item_ms: 0, turns: 0, spoken_ms: 0, waiting: 0, order: map.size });
    return map.get(key);
  };
  for (const [sub, st] of Object.entries((s.room && s.room.stats) || {})) {
    const p = personOf(s, sub);
    const r = row(regions, (p && p.region) || null);
    const c = row(cats, (p && p.category) || null);
    for (const x of [r, c]) { x.turns += Number(st.turns) || 0; x.spoken_ms += Number(st.spoken_ms) || 0; }
  }
  if (b.seed && b.item === (s.room && s.room.agenda_item)) {
    for (const g of b.seed.regions || []) { const r = row(regions, g.region || null); r.item_turns += g.turns; r.item_ms += g.spoken_ms; }
    for (const g of b.seed.categories || []) { const c = row(cats, g.category || null); c.item_turns += g.turns; c.item_ms += g.spoken_ms; }
  }
  for (const f of b.live) {
    if (b.seed && f.seq <= b.seedSeq) continue;
    const r = row(regions, f.region);
    const c = row(cats, f.category);
    for (const x of [r, c]) { x.item_turns += 1; x.item_ms += f.spoken_ms; }
  }
  for (const q of queue(s)) {
    row(regions, q.region || null).waiting += 1;
    row(cats, q.category || null).waiting += 1;
  }
  return { regions: [...regions.values()], categories: [...cats.values()] };
}

// The advice: the first waiting speech of the region heard least on this
// item (fewest turns, then least time, then the earlier in the list), when
// speeches of at least two regions wait. Returns the request or null.
export function balanceAdvice(s, rows = balanceRows(s)) {
  const q = queue(s).filter((r) => r.kind === 'speech' && r.region);
  const waiting = new Set(q.map((r) => r.region));
  if (waiting.size < 2) return null;
  const heard = new Map(rows.regions.map((r) => [r.key, r]));
  let best = null;
  for (const r of q) {
    const h = heard.get(r.region) || { item_turns: 0, item_ms: 0 };
    if (!best || h.item_turns < best.h.item_turns || (h.item_turns === best.h.item_turns && h.item_ms < best.h.item_ms)) best = { r, h };
  }
  return best ? best.r : null;
}

export function createBalance(ctx) {
  const advice = el('p', { class: 'balance-advice', id: 'balance-advice' });
  // Four columns, so that it fits a phone without scrolling: "turns ·
  // time" in one cell (spoken in full to screen readers).
  const table = (caption, first) => {
    const body = el('tbody');
    const t = el('table', { class: 'stats balance' },
      el('caption', {}, caption),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, first),
        el('th', { scope: 'col', class: 'num' }, 'Heard on this item'),
        el('th', { scope: 'col', class: 'num' }, 'In all'),
        el('th', { scope: 'col', class: 'num' }, 'Waiting'))),
      body);
    return { t, body };
  };
  const byRegion = table('By region', 'Region');
  const byCat = table('By category', 'Category');
  const empty = el('p', { class: 'empty' }, 'Nobody has spoken or asked for the floor yet.');
  const node = el('section', { class: 'card balance-card', 'aria-labelledby': 'balance-h', id: 'balance' },
    el('div', { class: 'card-head' }, el('h2', { id: 'balance-h' }, 'Regional balance')),
    advice, empty, byRegion.t, byCat.t);

  const turnsTime = (turns, ms) => el('td', { class: 'num' },
    el('span', { 'aria-hidden': 'true' }, `${turns} · ${clock(ms)}`),
    el('span', { class: 'sr-only' }, `${turns} turn${turns === 1 ? '' : 's'}, ${spokenDuration(ms)}`));

  let sig = '';
  function update(s) {
    const rows = balanceRows(s);
    const adv = balanceAdvice(s, rows);
    const ns = JSON.stringify([rows, adv && adv.id]);
    if (ns === sig) return;
    sig = ns;
    const any = rows.regions.length > 0;
    empty.hidden = any;
    byRegion.t.hidden = !any;
    byCat.t.hidden = !any;
    const cells = (r, label, advised) => el('tr', { class: advised ? 'is-advised' : null },
      el('th', { scope: 'row' }, userText(label)),
      turnsTime(r.item_turns, r.item_ms), turnsTime(r.turns, r.spoken_ms),
      el('td', { class: 'num' }, String(r.waiting)));
    byRegion.body.replaceChildren(...rows.regions.map((r) => cells(r, regionLabel(r.key), !!(adv && r.key === adv.region))));
    byCat.body.replaceChildren(...rows.categories.map((r) => cells(r, categoryLabel(r.key), false)));
    if (adv) {
      advice.replaceChildren(el('span', { class: 'tag tag-advice' }, 'Advice'), ' ',
        userText(regionLabel(adv.region)), ' has been heard least on this item; its first waiting speech is ',
        userText(who(adv)), '. The order stays yours.');
      advice.hidden = false;
    } else {
      advice.replaceChildren();
      advice.hidden = true;
    }
  }
  return { node, update };
}
