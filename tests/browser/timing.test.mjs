// The meeting's clock and balance in the browser (contract 9.1-9.3): the
// countdown to a scheduled start in the meeting's zone and the viewer's
// own; a short segment that the list overruns, the delegate's "about N min"
// and "may not be reached", the chair's overrun, "at M:SS per speech the
// list fits" and the button that sets it (by keyboard); the Regional
// balance with its advice mark; axe, 320 px; screenshots for the README.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, startServer, join, command } from '../lib/harness.mjs';
import {
  launch, open, region, btn, waitText, until, axeAudit, screenshot, DESKTOP, PHONE,
} from './browser.mjs';

const CHAIR = { sub: 'chair', name: 'Ambassador Ana Silva', role: 'moderator' };
const KE = { sub: 'ke', name: 'Wanjiru Kamau', role: 'delegate', delegation: 'Kenya', category: 'member_state', region: 'African States' };
const NGO = { sub: 'ngo', name: 'Amina Diallo', role: 'delegate', delegation: 'Sahel Peace Network', category: 'civil_society', region: 'African States' };
const FR = { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France', category: 'member_state', region: 'Western European and other States' };

// hh:mm as the page formats it (en-GB), in zone tz.
const hm = (ms, tz) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: tz }).format(new Date(ms));

// Name of the focused element as a screen reader would start it.
const focusedName = (page) => page.evaluate(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return '';
  return a.getAttribute('aria-label') || a.textContent || '';
});

async function noOverflowAt320(page) {
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px too wide at 320px`);
}

describe('schedule, segment and regional balance', { timeout: 240000 }, () => {
  let server; let browser;
  before(async () => {
    server = await startServer({});
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('before the meeting: the start in the meeting zone and the viewer\'s, a countdown, the list open', async () => {
    const HALF = 30 * 60 * 1000;
    const starts = Math.ceil((Date.now() + HALF) / HALF) * HALF;
    const room = await createRoom(server, {
      id: `sched-web-${process.pid}`, title: 'Interactive closing discussion', status: 'scheduled',
      schedule: { starts_at: starts, ends_at: starts + 4 * HALF, time_zone: 'America/New_York' },
      agenda: [{ id: 'q1', title: 'First guiding question', planned_s: 1800 },
        { id: 'usg', title: 'Conclusions of the Under-Secretary-General', planned_s: 900, reserved: true }],
    });
    const ke = await open(browser, server, room.id, KE, { viewport: PHONE });
    const chair = await open(browser, server, room.id, CHAIR);
    const before = region(ke, 'Before the meeting');
    await waitText(before, `Starts at ${hm(starts, 'America/New_York')} New York, ${hm(starts, 'Europe/Vienna')} your time`);
    await waitText(before, 'already open');
    const timer = before.getByRole('timer', { name: /starts in/i });
    const t1 = await timer.textContent();
    await until(async () => (await timer.textContent()) !== t1, 'the countdown moves', 4000);
    assert.match(await ke.locator('#room-status').textContent(), /Scheduled/);
    // the list is open before the meeting
    await btn(region(ke, 'Your participation'), 'Request the floor').click();
    await until(async () => (await region(chair, 'Speakers list').getByRole('listitem').count()) === 1, 'the request on the chair\'s list');
    // the agenda shows the closing segment as protected
    await waitText(region(ke, 'Agenda'), /Conclusions of the Under-Secretary-General\s*Protected/);
    assert.deepEqual(await axeAudit(ke), []);
    await screenshot(ke, 'delegate-scheduled-phone');
    await noOverflowAt320(ke);
    // the chair opens the meeting: the countdown goes, the segment comes
    await chair.locator('#status-sel').selectOption('open');
    await btn(chair, 'Set status').click();
    await region(ke, 'Before the meeting').waitFor({ state: 'hidden' });
    await waitText(region(ke, 'Current segment'), /Planned end \d\d:\d\d \(30:00 planned\)/);
    await waitText(region(ke, 'Current segment'), /Protected: Conclusions of the Under-Secretary-General \(15:00\)/);
    assert.deepEqual(ke.consoleErrors, []);
    await ke.context().close();
    await chair.context().close();
  });

  it('a short segment: at risk, the overrun, the limit that fits (keyboard), the regional balance', async () => {
    const room = await createRoom(server, {
      id: `seg-web-${process.pid}`, title: 'Interactive closing discussion',
      agenda: [{ id: 'q1', title: 'First guiding question', planned_s: 300 },
        { id: 'q2', title: 'Second guiding question', planned_s: 1800 }],
      settings: { speech_s: 180, changeover_s: 15 },
    });
    const chair = await open(browser, server, room.id, CHAIR);
    const ngo = await open(browser, server, room.id, NGO);
    // Kenya and France over the wire; Kenya speaks first and yields.
    const ke = (await join(server, { ...KE, room: room.id })).client;
    const fr = (await join(server, { ...FR, room: room.id })).client;
    await command(ke, { type: 'request_floor' });
    const mod = (await join(server, { ...CHAIR, sub: 'chair-2', name: 'Vice-Chair Bo Lind', room: room.id })).client;
    await command(mod, { type: 'grant' });
    await command(ke, { type: 'yield' });
    await command(ke, { type: 'request_floor' });
    await btn(region(ngo, 'Your participation'), 'Request the floor').click();
    await command(fr, { type: 'request_floor' });
    // list: Kenya, Sahel Peace Network, France: 3 x 3:00 + 2 x 0:15 = 9:30
    // in a 5:00 segment: the last two may not be reached
    const me = region(ngo, 'Your participation');
    await waitText(me, /You may speak about \d+ min\./);
    await waitText(me, 'You may not be reached in this segment.');
    await waitText(region(ngo, 'Current segment'), /Planned end \d\d:\d\d \(5:00 planned\)/);
    // the chair: overrun, the limit that fits, the at-risk marks
    const seg = region(chair, 'Current segment');
    await waitText(seg, /The list ends at \d\d:\d\d, the segment at \d\d:\d\d: \d+:\d\d over\./);
    await waitText(seg, /At 1:\d\d per speech the list fits\./);
    const list = region(chair, 'Speakers list');
    await until(async () => (await list.getByText('May not be reached').count()) === 2, 'two entries at risk');
    // regional balance: Africa heard once on this item, Western Europe not:
    // the advice marks France's speech although it is last
    const bal = region(chair, 'Regional balance');
    await waitText(bal, /Western European and other States has been heard least on this item; its first waiting speech is Claire Dubois \(France\)/);
    const afr = bal.getByRole('row', { name: /^African States/ });
    assert.match((await afr.textContent()).replace(/\s+/g, ' '), /African States ?1 · 0:0\d/);
    await until(async () => (await list.getByRole('listitem').filter({ hasText: 'Advice: regional balance' }).filter({ hasText: 'Claire Dubois' }).count()) === 1, 'the advice mark on France');
    await waitText(region(chair, 'Regional balance'), /Civil society/);
    assert.deepEqual(await axeAudit(chair), []);
    await chair.setViewportSize({ width: 1600, height: 1000 }); // three columns: the balance shows
    await screenshot(chair, 'moderator-timing-desktop');
    await chair.setViewportSize(DESKTOP);
    await screenshot(ngo, 'delegate-at-risk-desktop');
    // a second chair page joining now learns this item's figures from the
    // record (fetched with its own token), not from events it saw
    const chair2 = await open(browser, server, room.id, { ...CHAIR, sub: 'chair-3', name: 'Rapporteur Li Wei' });
    const afr2 = region(chair2, 'Regional balance').getByRole('row', { name: /^African States/ });
    await until(async () => /African States ?1 · 0:0\d/.test((await afr2.textContent()).replace(/\s+/g, ' ')), 'the seeded balance');
    await chair2.context().close();
    // keyboard only: Tab from the segment's heading to the button, Enter
    const want = Number((await seg.textContent()).match(/At (\d+):(\d\d) per speech/).slice(1).reduce((m, x, i) => (i ? m * 60 + Number(x) : Number(x)), 0));
    await chair.locator('#seg-h').evaluate((h) => { h.tabIndex = -1; h.focus(); });
    for (let i = 0; i < 10 && !/Set the speech limit to fit/.test(await focusedName(chair)); i++) await chair.keyboard.press('Tab');
    assert.match(await focusedName(chair), /Set the speech limit to fit/);
    await chair.keyboard.press('Enter');
    await until(async () => (await server.api('GET', `/api/rooms/${room.id}`)).json.settings.speech_s <= want && (await server.api('GET', `/api/rooms/${room.id}`)).json.settings.speech_s >= want - 1, `speech_s set to ${want}`);
    await waitText(seg, /within the segment/);
    await waitText(me, /You may speak about \d+ min\./);
    assert.equal(await me.getByText('You may not be reached').count(), 0);
    await noOverflowAt320(chair);
    await noOverflowAt320(ngo);
    assert.deepEqual(chair.consoleErrors, []);
    assert.deepEqual(ngo.consoleErrors, []);
    for (const c of [ke, fr, mod]) c.close();
  });
});
