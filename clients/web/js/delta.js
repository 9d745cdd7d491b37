// The delta form of events (contract section 10): applying queue_ops and
// stats_ops, and the queue_hash check. Pure: no DOM.
//
// SHA-256 is computed here, synchronously, because crypto.subtle exists
// only in secure contexts (https, or http to localhost): a meeting served
// on plain http to a LAN address would have no hash at all otherwise.

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// SHA-256 of a string (as UTF-8), as 64 lowercase hex digits.
export function sha256Hex(text) {
  const msg = new TextEncoder().encode(text);
  const bits = msg.length * 8;
  const padded = new Uint8Array(((msg.length + 9 + 63) >> 6) << 6);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const W = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + W[i]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      h = g; g = f; f = e; e = (d + t1) >>> 0;
      d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }
  return Array.from(H, (x) => x.toString(16).padStart(8, '0')).join('');
}

// The first 16 hex digits of SHA-256 of the request ids joined by ",".
export function queueHash(queue) {
  return sha256Hex(queue.map((r) => r.id).join(',')).slice(0, 16);
}

const clamp = (i, len) => Math.max(0, Math.min(len, Number.isInteger(i) ? i : 0));

// Applies queue_ops to a copy of queue. Returns the new queue, or null
// when an op does not fit (unknown op or id, an insert of an id already
// there): the caller then fetches a fresh snapshot.
export function applyQueueOps(queue, ops) {
  if (!Array.isArray(ops)) return null;
  const q = queue.slice();
  const at = (id) => q.findIndex((r) => r.id === id);
  for (const op of ops) {
    if (!op || typeof op !== 'object') return null;
    const req = op.request;
    const id = req && typeof req === 'object' ? req.id : op.id;
    if (typeof id !== 'string') return null;
    const i = at(id);
    switch (op.op) {
      case 'insert':
        if (i >= 0 || !Number.isInteger(op.at)) return null;
        q.splice(clamp(op.at, q.length), 0, req);
        break;
      case 'remove':
        if (i < 0) return null;
        q.splice(i, 1);
        break;
      case 'move': {
        if (i < 0 || !Number.isInteger(op.to)) return null;
        const [moved] = q.splice(i, 1);
        q.splice(clamp(op.to, q.length), 0, moved);
        break;
      }
      case 'update':
        if (i < 0) return null;
        q[i] = req;
        break;
      default:
        return null;
    }
  }
  return q;
}

// Applies stats_ops to a copy of stats.
export function applyStatsOps(stats, ops) {
  return { ...(stats || {}), ...(ops && typeof ops === 'object' ? ops : {}) };
}

// Applies the queue and stats of an event's state (either form) to room
// (changed in place). Returns true, or false when the delta form's ops do
// not fit or the queue then has another length or hash than the server's.
export function applyDeltaState(room, st) {
  let ok = true;
  if ('queue_ops' in st) {
    const q = applyQueueOps(Array.isArray(room.queue) ? room.queue : [], st.queue_ops);
    if (q) room.queue = q;
    ok = !!q && q.length === st.queue_len && queueHash(q) === st.queue_hash;
  }
  if ('stats_ops' in st) room.stats = applyStatsOps(room.stats, st.stats_ops);
  return ok;
}

// The state keys of the delta form that are not snapshot parts.
export const DELTA_KEYS = new Set(['queue_ops', 'queue_len', 'queue_hash', 'stats_ops']);
