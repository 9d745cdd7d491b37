// One participant's connection to a room: WebSocket (subprotocol
// rostrum.v1), join and resume with since + epoch, reconnect with
// exponential backoff, command correlation ids, and a ping that measures
// the server clock and notices a dead link.
import { CMD, CLOSE } from './names.js';

const PROTOCOL = 'rostrum.v1';
const FINAL = new Set([CLOSE.UNAUTHORIZED, CLOSE.REMOVED, CLOSE.NO_ROOM]);
const PING_EVERY_MS = 15000;
const DEAD_AFTER_MS = 35000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;

export function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export class Connection {
  // handlers: welcome(msg), event(msg), presence(msg), status(state, info),
  // final(code, reason, lastError), skew(ms); resume() -> {since, epoch} | null
  constructor(token, handlers, url = wsUrl()) {
    this.token = token;
    this.h = handlers;
    this.url = url;
    this.ws = null;
    this.joined = false;
    this.attempt = 0;
    this.pending = new Map();
    this.nextId = 1;
    this.timer = null;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.lastError = null;
    this.stopped = false;
    this.pingSent = 0;
  }

  start() { this.open(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) { this.detach(this.ws); try { this.ws.close(1000); } catch { /* closed */ } }
    this.ws = null;
  }

  open() {
    if (this.stopped) return;
    this.joined = false;
    this.lastError = null;
    this.h.status(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url, PROTOCOL);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      // The delta form: a queue change costs what it changes, not the
      // whole list (store.js applies and checks it).
      const join = { type: CMD.JOIN, token: this.token, deltas: true };
      const r = this.h.resume && this.h.resume();
      if (r && r.epoch && Number.isFinite(r.since)) { join.since = r.since; join.epoch = r.epoch; }
      ws.send(JSON.stringify(join));
      this.lastHeard = Date.now();
    };
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => this.closed(ws, e.code, e.reason);
    ws.onerror = () => { /* a close follows */ };
  }

  detach(ws) { ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null; }

  receive(data) {
    this.lastHeard = Date.now();
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'welcome':
        this.joined = true;
        this.attempt = 0;
        this.h.welcome(m);
        this.h.status('open', {});
        this.ping();
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.heartbeat(), PING_EVERY_MS);
        break;
      case 'event':
        if (this.joined) this.h.event(m);
        break;
      case 'presence':
        if (this.joined) this.h.presence(m);
        break;
      case 'pong':
        if (Number.isFinite(m.ts) && this.pingSent) {
          const now = Date.now();
          const rtt = now - this.pingSent;
          if (rtt < 5000) this.h.skew(m.ts - (this.pingSent + now) / 2);
          this.pingSent = 0;
        }
        break;
      case 'ack':
      case 'statement':
      case 'error': {
        const p = m.id !== undefined ? this.pending.get(m.id) : null;
        if (p) {
          this.pending.delete(m.id);
          // get_statement is answered with the statement itself (9.4)
          p.resolve(m.type === 'ack' ? { ok: true, seq: m.seq }
            : m.type === 'statement' ? { ok: true, statement: m }
              : { ok: false, code: m.code, message: m.message || m.code });
        } else if (m.type === 'error') {
          this.lastError = m;
        }
        break;
      }
      default:
        break;
    }
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.pingSent = Date.now();
    this.ws.send(JSON.stringify({ type: CMD.PING }));
  }

  heartbeat() {
    if (!this.ws) return;
    if (Date.now() - this.lastHeard > DEAD_AFTER_MS) {
      // The link is dead without a close (sleeping laptop, lost Wi-Fi):
      // drop it and reconnect at once rather than wait for TCP to notice.
      const ws = this.ws;
      this.detach(ws);
      try { ws.close(); } catch { /* closed */ }
      this.closed(ws, 1006, 'no answer');
      return;
    }
    this.ping();
  }

  closed(ws, code, reason) {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = null;
    this.joined = false;
    clearInterval(this.pingTimer);
    for (const p of this.pending.values()) {
      p.resolve({ ok: false, code: 'disconnected', message: 'The connection was lost before the server answered. Please try again.' });
    }
    this.pending.clear();
    if (this.stopped) return;
    if (FINAL.has(code)) {
      this.stopped = true;
      this.h.status('closed', { code });
      this.h.final(code, reason, this.lastError);
      return;
    }
    this.scheduleReconnect(code);
  }

  scheduleReconnect(code) {
    clearTimeout(this.timer);
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const slow = code === CLOSE.RATE || code === CLOSE.ABUSE ? 4 : 1;
    const delay = Math.min(BACKOFF_MAX_MS * 2, base * slow) * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.h.status('reconnecting', { attempt: this.attempt, delay, code });
    this.timer = setTimeout(() => this.open(), delay);
  }

  // Reconnects now (after a gap in the seqs, or when the browser says the
  // network is back).
  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.detach(ws);
      try { ws.close(); } catch { /* closed */ }
      this.ws = null;
      for (const p of this.pending.values()) p.resolve({ ok: false, code: 'disconnected', message: 'The connection was lost before the server answered. Please try again.' });
      this.pending.clear();
    }
    this.open();
  }

  get isOpen() { return !!(this.ws && this.joined && this.ws.readyState === WebSocket.OPEN); }

  // Sends a command; resolves with {ok:true, seq}, {ok:true, statement}
  // (get_statement) or {ok:false, code, message}.
  send(cmd) {
    if (!this.isOpen) {
      return Promise.resolve({ ok: false, code: 'disconnected', message: 'Not connected to the meeting right now. Please wait until the connection is back.' });
    }
    const id = `w${this.nextId++}`;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.ws.send(JSON.stringify({ ...cmd, id }));
    });
  }
}
