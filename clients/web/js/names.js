// The wire vocabulary, read from protocol.js (generated from the C tables by
// protocol/gen_constants.c; never edited by hand). This module gives the
// rest of the client one shape to read: NAME -> wire value, e.g.
// CMD.REQUEST_FLOOR === 'request_floor', CLOSE.UNAUTHORIZED === 4401.
import * as P from './protocol.js';

// ["request_floor", ...] -> { REQUEST_FLOOR: "request_floor", ... }
function byName(list) {
  const out = {};
  for (const v of list || []) out[String(v).toUpperCase()] = v;
  return Object.freeze(out);
}

export const CMD = byName(P.COMMANDS);
export const EV = byName(P.EVENTS);
export const ERR = byName(Object.keys(P.ERRORS || {}));
export const ROLE = byName(P.ROLES);
export const KIND = byName(P.KINDS);
export const CATEGORY = byName(P.CATEGORIES);
export const STATUS = byName(P.STATUSES);
export const END = byName(P.END_REASONS);
export const CHAT = byName(P.CHAT_RULES);
export const ORDER = byName(P.QUEUE_ORDERS);
export const TIMEUP = byName(P.ON_TIME_UP);

export const KIND_LIST = [...(P.KINDS || [])];
export const STATUS_LIST = [...(P.STATUSES || [])];
export const CHAT_LIST = [...(P.CHAT_RULES || [])];
export const ORDER_LIST = [...(P.QUEUE_ORDERS || [])];
export const TIMEUP_LIST = [...(P.ON_TIME_UP || [])];
export const CATEGORY_LIST = [...(P.CATEGORIES || [])];

// Human text of an error code, as the tables give it.
export const errorText = (code) => (P.ERRORS && P.ERRORS[code]) || code;

// Close codes the client acts on. The numbers are the contract's; each must
// be one the generated table knows (a renamed or dropped code shows up here).
const codes = P.CLOSE_CODES || {};
const known = (n) => {
  if (!(n in codes)) console.warn(`close code ${n} is not in protocol.js`);
  return n;
};
export const CLOSE = Object.freeze({
  NORMAL: known(1000),
  GOING_AWAY: known(1001),
  TRY_AGAIN: known(1013),
  ABUSE: known(4400),
  UNAUTHORIZED: known(4401),
  REMOVED: known(4403),
  NO_ROOM: known(4404),
  RATE: known(4429),
});
export const closeReason = (code) => codes[code] || '';
