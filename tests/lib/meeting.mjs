// A small meeting for the system tests: a room, a moderator ("chair") and
// delegates, with helpers that check acks and refusals.
import assert from 'node:assert/strict';
import { newRoom, enter, act } from './harness.mjs';

export const stateKeys = (ev) => Object.keys(ev.state || {}).sort();

export function hasKeys(o, keys, what) {
  for (const k of keys) assert.ok(o && typeof o === 'object' && k in o, `${what} lacks ${k}: ${JSON.stringify(o)}`);
}

// people: [[sub, claimsExtra], ...]; spec: newRoom() spec (agenda, title).
export async function meeting(server, settings = {}, people = [['fr', { delegation: 'France', category: 'member_state' }], ['de', { delegation: 'Germany', category: 'member_state' }]], spec = {}) {
  const room = await newRoom(server, { settings, ...spec });
  const m = (await enter(server, room.id, 'moderator', 'chair', { name: 'The Chair' })).c;
  const d = {};
  for (const [sub, extra] of people) d[sub] = (await enter(server, room.id, 'delegate', sub, { name: `Delegate ${sub}`, ...extra })).c;
  const all = [m, ...Object.values(d)];
  return {
    room, m, d, all,
    // Another connection in the room (its client is closed by close()).
    async join(role, sub, extra = {}, joinExtra = {}) {
      const r = await enter(server, room.id, role, sub, { name: `Delegate ${sub}`, ...extra }, joinExtra);
      all.push(r.c);
      return r;
    },
    async ok(c, cmd) {
      const seqBefore = c.lastSeq ?? 0;
      const r = await act(c, cmd);
      assert.equal(r.reply.type, 'ack', `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
      // Read-your-writes: the event the ack names came before the ack.
      if (r.reply.seq > seqBefore) {
        assert.ok(r.events.some((e) => e.seq === r.reply.seq),
          `${JSON.stringify(cmd)}: ack seq ${r.reply.seq} arrived before its event (events before it: ${r.events.map((e) => e.seq)})`);
      }
      return r;
    },
    async refused(c, cmd, code) {
      // Wait first for the events of earlier commands (of any connection
      // of this meeting; each was acked, so committed), so that they are not
      // taken for events of this one. No extra frame: pings count against
      // the rate limit.
      const target = Math.max(...all.map((x) => x.lastSeq ?? 0));
      if ((c.lastSeq ?? 0) < target && !c.closed) await c.waitFor((x) => x.type === 'event' && x.seq >= target);
      const r = await act(c, cmd);
      assert.equal(r.reply.type, 'error', `${JSON.stringify(cmd)} was accepted: ${JSON.stringify(r.reply)}`);
      if (code) assert.equal(r.reply.code, code, `${JSON.stringify(cmd)}: ${JSON.stringify(r.reply)}`);
      assert.deepEqual(r.events, [], `${JSON.stringify(cmd)} was refused but produced events`);
      return r;
    },
    async queue() { return (await server.api('GET', `/api/rooms/${room.id}`)).json.queue; },
    async snapshot() { return (await server.api('GET', `/api/rooms/${room.id}`)).json; },
    close() { for (const c of all) c.close(); },
    checkSeqs() { for (const c of all) assert.deepEqual(c.seqErrors, []); },
  };
}
