// Human wording and formatting: labels for wire values, durations, and
// times in the viewer's own time zone.
import { KIND, CHAT, ORDER, TIMEUP, STATUS } from './names.js';

export function kindLabel(kind) {
  switch (kind) {
    case KIND.REPLY: return 'Right of reply';
    case KIND.POINT_OF_ORDER: return 'Point of order';
    default: return 'Speech';
  }
}

export function statusLabel(status) {
  switch (status) {
    case STATUS.SUSPENDED: return 'Suspended';
    case STATUS.CLOSED: return 'Closed';
    case STATUS.SCHEDULED: return 'Scheduled';
    default: return 'In session';
  }
}

export function roleLabel(role) {
  return role === 'moderator' ? 'Chair' : role === 'delegate' ? 'Delegate' : role === 'observer' ? 'Observer'
    : role === 'interpreter' ? 'Interpreter' : String(role || '');
}

export const CHAT_LABELS = {
  [CHAT.OPEN]: 'Delegates and chair',
  [CHAT.FLOOR]: 'Speaker and chair only',
  [CHAT.OFF]: 'Off (announcements only)',
};
export const ORDER_LABELS = {
  [ORDER.REQUEST]: 'Order of request',
  [ORDER.CATEGORY]: 'By category (UN precedence)',
};
export const TIMEUP_LABELS = {
  [TIMEUP.NOTIFY]: 'Signal only',
  [TIMEUP.END]: 'End the floor',
};

export const LANGUAGES = [
  ['ar', 'Arabic'], ['zh', 'Chinese'], ['en', 'English'],
  ['fr', 'French'], ['ru', 'Russian'], ['es', 'Spanish'],
];
export function languageLabel(code) {
  if (!code) return '';
  const hit = LANGUAGES.find(([c]) => c === code);
  return hit ? hit[1] : String(code).toUpperCase();
}

// 185000 -> "3:05"; 3725000 -> "1:02:05". Whole seconds, rounded up for a
// countdown (a speaker with 0.4 s left still sees 0:01).
export function clock(ms, roundUp = false) {
  const total = Math.max(0, roundUp ? Math.ceil(ms / 1000) : Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// "2 minutes 5 seconds" for screen readers.
export function spokenDuration(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (s || !m) parts.push(`${s} second${s === 1 ? '' : 's'}`);
  return parts.join(' ');
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function timeOfDay(ms) { return Number.isFinite(ms) ? timeFmt.format(new Date(ms)) : ''; }
export function fullTime(ms) { return Number.isFinite(ms) ? fullFmt.format(new Date(ms)) : ''; }
export function isoTime(ms) { return Number.isFinite(ms) ? new Date(ms).toISOString() : ''; }

const numFmt = new Intl.NumberFormat();
export function count(n) { return numFmt.format(n || 0); }

export function ordinal(n) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] || s[v] || s[0]);
}

// "Alice Martin (France)" for accessible names and announcements.
export function who(p) {
  if (!p) return '';
  return p.delegation ? `${p.name} (${p.delegation})` : String(p.name || p.sub || '');
}
