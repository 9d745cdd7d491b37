// What each role may see and do, keyboard-only use, an axe-core audit of
// the three views, and the screenshots in docs/images.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, command } from '../lib/harness.mjs';
import {
  launch, startMeeting, open, region, btn, waitText, waitSpeakers, until, axeAudit, screenshot, DESKTOP, PHONE,
} from './browser.mjs';

const CHAIR = { sub: 'chair', name: 'Ambassador Ana Silva', role: 'moderator' };
const FR = { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France', category: 'member_state' };
const OBS = { sub: 'obs', name: 'Press gallery', role: 'observer' };
const KB = { sub: 'jp', name: 'Kenji Watanabe', role: 'delegate', delegation: 'Japan', category: 'member_state' };

// Name of the focused element as a screen reader would start it.
const focusedName = (page) => page.evaluate(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return '';
  return a.getAttribute('aria-label') || (a.labels && a.labels[0] && a.labels[0].textContent) || a.textContent || '';
});

// Presses Tab until the focused control's name matches re.
async function tabTo(page, re, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (re.test(await focusedName(page))) return;
  }
  throw new Error(`Tab never reached ${re}`);
}

describe('roles, keyboard and accessibility', { timeout: 240000 }, () => {
  let server; let room; let browser; let chair; let fr; let obs; let others = [];

  before(async () => {
    ({ server, room } = await startMeeting({ settings: { speech_s: 300, reply_s: 120 } }));
    browser = await launch();
    chair = await open(browser, server, room.id, CHAIR);
    fr = await open(browser, server, room.id, FR);
    obs = await open(browser, server, room.id, OBS);
    // A few more people over the wire, so the views look like a meeting.
    const people = [
      ['eg', 'أميرة حداد', 'Egypt', 'member_state'],
      ['mx', 'María López', 'Mexico', 'member_state'],
      ['unodc', 'Oluwaseun Adeyemi', 'UNODC', 'un_entity'],
    ];
    for (const [sub, name, delegation, category] of people) {
      const { client } = await join(server, { sub, name, delegation, category, room: room.id, role: 'delegate' });
      others.push(client);
    }
    for (let i = 0; i < 3; i++) others.push((await join(server, { sub: `o${i}`, name: `Observer ${i}`, room: room.id, role: 'observer' })).client);
    const [eg, mx, unodc] = others;
    await btn(fr, 'Request the floor').click();
    await waitSpeakers(chair, ['Claire Dubois']);
    assert.equal((await command(mx, { type: 'request_floor', lang: 'es' })).type, 'ack');
    assert.equal((await command(eg, { type: 'request_floor', lang: 'ar' })).type, 'ack');
    assert.equal((await command(unodc, { type: 'request_floor' })).type, 'ack');
    await btn(chair, 'Next speaker').click();
    await waitText(region(obs, 'Current speaker'), 'Claire Dubois');
    assert.equal((await command(eg, { type: 'request_floor', kind: 'reply', lang: 'ar' })).type, 'ack');
    await chair.getByLabel('Message').fill('Welcome to the interactive closing discussion. Please keep statements to three minutes.');
    await btn(chair, 'Announce').click();
    assert.equal((await command(mx, { type: 'say', text: 'Mexico aligns itself with the statement to be delivered by the Group of Friends.' })).type, 'ack');
    assert.equal((await command(eg, { type: 'say', text: 'شكراً سيدتي الرئيسة. نؤيد هذا الاقتراح.' })).type, 'ack');
    await fr.getByLabel('Message').fill('Thank you, Madam Chair. The text of our statement is available in the e-deleGATE portal.');
    await btn(fr, 'Send').click();
    for (const p of [chair, fr, obs]) await waitSpeakers(p, ['María López', 'أميرة حداد', 'Oluwaseun Adeyemi', 'أميرة حداد']);
    for (const p of [chair, fr, obs]) await until(async () => (await region(p, 'Discussion').getByRole('listitem').count()) === 4, 'four messages');
  });

  after(async () => {
    for (const c of others) c.close();
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('gives an observer no control and no text input at all', async () => {
    await waitText(region(obs, 'Participants'), /Observers:\s*4/);
    assert.equal(await obs.getByRole('button').count(), 0, 'buttons on the observer page');
    assert.equal(await obs.locator('button, input, textarea, select, [contenteditable=""], [contenteditable="true"]').count(), 0);
    for (const role of ['textbox', 'combobox', 'checkbox', 'spinbutton', 'listbox']) {
      assert.equal(await obs.getByRole(role).count(), 0, `${role} on the observer page`);
    }
    // ...while everything is visible.
    await obs.getByRole('timer').waitFor();
    for (const name of ['Current speaker', 'Speakers list', 'Participants', 'Discussion']) await region(obs, name).waitFor();
    assert.equal(await region(obs, 'Speakers list').getByRole('list').count(), 1);
    assert.equal(await region(obs, 'Speakers list').locator('ol').count(), 1);
  });

  it('gives a delegate the delegate controls and no chair control', async () => {
    for (const name of ['Request the floor', 'Right of reply', 'Point of order', 'Yield the floor', 'Send']) {
      assert.equal(await btn(fr, name).count(), 1, name);
    }
    for (const name of ['Next speaker', 'Grant the floor', 'End the floor', 'Pause', 'Add time', 'Close the list', 'Move up', 'Remove from list', 'Mute', 'Remove participant', 'Announce']) {
      assert.equal(await btn(fr, name).count(), 0, name);
    }
  });

  it('gives the chair every moderation control', async () => {
    for (const name of ['Next speaker', 'End the floor', 'Pause', 'Add time', 'Close the list', 'Announce', 'Send']) {
      assert.equal(await btn(chair, name).count(), 1, name);
    }
    for (const name of ['Grant the floor', 'Move up', 'Move down', 'Remove from list']) {
      assert.equal(await btn(chair, name).count(), 4, name);
    }
    assert.equal(await btn(chair, /Grant the floor to María López/).count(), 1);
    assert.equal(await btn(chair, /^Mute/).count(), 4);
    assert.equal(await btn(chair, 'Remove participant').count(), 4);
    await chair.getByLabel('Agenda item').waitFor();
    await chair.getByLabel('Meeting status').waitFor();
    await chair.getByLabel('Speech (seconds)').waitFor();
    await region(chair, 'Speaking time').waitFor();
  });

  it('saves screenshots of the three views', async () => {
    for (const [name, page] of [['moderator', chair], ['delegate', fr], ['observer', obs]]) {
      await page.setViewportSize(DESKTOP);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, `${name}-desktop`);
      await page.setViewportSize(PHONE);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, `${name}-phone`);
      await page.setViewportSize(DESKTOP);
    }
  });

  it('lets the chair reorder the list, and keeps keyboard focus on the moved entry', async () => {
    await btn(chair, 'Move down: María López (Mexico)').focus();
    await chair.keyboard.press('Enter');
    await waitSpeakers(obs, ['أميرة حداد', 'María López', 'Oluwaseun Adeyemi', 'أميرة حداد']);
    assert.equal(await focusedName(chair), 'Move down: María López (Mexico)');
    await chair.keyboard.press('Shift+Tab');
    assert.equal(await focusedName(chair), 'Move up: María López (Mexico)');
    await chair.keyboard.press('Enter');
    await waitSpeakers(obs, ['María López', 'أميرة حداد', 'Oluwaseun Adeyemi', 'أميرة حداد']);
  });

  it('works with the keyboard alone for a delegate (Tab and Enter)', async () => {
    const kb = await open(browser, server, room.id, KB);
    try {
      await tabTo(kb, /^Request the floor$/);
      const outline = await kb.evaluate(() => {
        const cs = getComputedStyle(document.activeElement);
        return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
      });
      assert.notEqual(outline.style, 'none', 'focus is visible');
      assert.ok(outline.width >= 2, `focus outline ${outline.width}px`);
      await kb.keyboard.press('Enter');
      // a speech goes after the last speech, before the rights of reply
    await waitSpeakers(obs, ['María López', 'أميرة حداد', 'Oluwaseun Adeyemi', 'Kenji Watanabe', 'أميرة حداد']);
      await waitText(region(kb, 'Your participation'), /You are 4th/);
      assert.equal(await focusedName(kb), 'Request the floor', 'focus stays on the button');

      await tabTo(kb, /^Message$/);
      await kb.keyboard.type('Japan requests the floor on item 1.');
      await kb.keyboard.press('Enter');
      await until(async () => (await region(obs, 'Discussion').getByRole('listitem').filter({ hasText: 'Japan requests the floor on item 1.' }).count()) === 1, 'message by keyboard');

      await kb.keyboard.press('Shift+Tab');
      for (let i = 0; i < 20 && !/^Withdraw/.test(await focusedName(kb)); i++) await kb.keyboard.press('Shift+Tab');
      assert.match(await focusedName(kb), /^Withdraw/);
      await kb.keyboard.press('Enter');
      await waitSpeakers(obs, ['María López', 'أميرة حداد', 'Oluwaseun Adeyemi', 'أميرة حداد']);
      assert.notEqual(await focusedName(kb), '', 'focus was not dropped to the page');
    } finally {
      await kb.context().close();
    }
  });

  it('passes an axe-core audit with no serious or critical violation, on each view', async () => {
    for (const [name, page] of [['chair', chair], ['delegate', fr], ['observer', obs]]) {
      for (const vp of [DESKTOP, PHONE]) {
        await page.setViewportSize(vp);
        const bad = (await axeAudit(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(bad, [], `${name} at ${vp.width}px: ${JSON.stringify(bad, null, 1)}`);
      }
      await page.setViewportSize(DESKTOP);
    }
  });

  it('fits a 320 px wide screen without horizontal scrolling', async () => {
    for (const page of [chair, fr, obs]) {
      await page.setViewportSize({ width: 320, height: 640 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px too wide at 320px`);
      await page.setViewportSize(DESKTOP);
    }
  });

});
