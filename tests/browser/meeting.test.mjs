// A chair, two delegates and an observer in one room, each in their own
// browser context: requests in the right order on every screen, grant,
// countdown, time up, yield, point of order jumping the list, mute, a
// refused command's message, and removal with a confirmation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, startMeeting, open, region, btn, speakers, waitText, waitSpeakers, until, announcements, T,
} from './browser.mjs';

const CHAIR = { sub: 'chair', name: 'Ana Silva', role: 'moderator', delegation: 'Chair' };
const FR = { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France', category: 'member_state' };
const EG = { sub: 'eg', name: 'أميرة حداد', role: 'delegate', delegation: 'Egypt', category: 'member_state' };
const OBS = { sub: 'press-1', name: 'Press gallery', role: 'observer' };

describe('a meeting in four browsers', { timeout: 240000 }, () => {
  let server; let room; let browser;
  let chair; let fr; let eg; let obs;
  let all;

  before(async () => {
    ({ server, room } = await startMeeting({ settings: { speech_s: 4, point_of_order_s: 120 } }));
    browser = await launch();
    chair = await open(browser, server, room.id, CHAIR);
    fr = await open(browser, server, room.id, FR);
    eg = await open(browser, server, room.id, EG);
    obs = await open(browser, server, room.id, OBS);
    all = [chair, fr, eg, obs];
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('shows the room, the agenda, the participants and the observer count to everyone', async () => {
    for (const p of all) {
      await waitText(p.getByRole('heading', { level: 1 }), 'Interactive closing discussion');
      await waitText(region(p, 'Agenda').locator('[aria-current]'), 'Emerging threats');
      const people = region(p, 'Participants');
      await until(async () => (await people.getByRole('listitem').count()) === 3, 'three participants');
      await waitText(people.getByRole('listitem').filter({ hasText: 'Claire Dubois' }), /online/);
      await waitText(people, /Observers:\s*1\b/);
      await waitText(region(p, 'Current speaker'), /Nobody has the floor/);
    }
    // The invite token does not stay in the address bar.
    for (const p of all) assert.ok(!p.url().includes('#t='), p.url());
  });

  it('lists requests in the order they were made, on every screen', async () => {
    await btn(fr, 'Request the floor').click();
    await waitSpeakers(eg, ['Claire Dubois']);
    await eg.getByLabel('Language you will speak').selectOption('ar');
    await btn(eg, 'Request the floor').click();
    for (const p of all) await waitSpeakers(p, ['Claire Dubois', EG.name]);
    // kind, delegation and language are shown with each entry
    await waitText(speakers(obs).nth(1), /Egypt/);
    await waitText(speakers(obs).nth(1), /Speech/);
    await waitText(speakers(obs).nth(1), /AR/);
    await waitText(region(fr, 'Your participation'), /You are next/);
    await waitText(region(eg, 'Your participation'), /You are 2nd/);
    await until(async () => /You are next/.test(await announcements(fr)), 'fr told "you are next"');
    await fr.getByText('You are next').waitFor();
  });

  it('puts a point of order ahead of the speeches', async () => {
    await btn(eg, 'Point of order').click();
    for (const p of all) await waitSpeakers(p, [EG.name, 'Claire Dubois', EG.name]);
    await waitText(speakers(chair).first(), /Point of order/);
    await waitText(region(eg, 'Your participation'), /You are next/);
    await waitText(region(fr, 'Your participation'), /You are 2nd/);
  });

  it('grants the head of the list with "Next speaker", and the speaker yields', async () => {
    await btn(chair, 'Next speaker').click();
    for (const p of all) {
      await waitText(region(p, 'Current speaker'), EG.name);
      await waitText(region(p, 'Current speaker'), /Point of order/);
      await waitSpeakers(p, ['Claire Dubois', EG.name]);
    }
    await waitText(region(eg, 'Your participation'), /You have the floor/);
    await until(async () => /You have the floor/.test(await announcements(eg)), 'eg told "you have the floor"');
    await until(async () => /Floor granted to أميرة حداد \(Egypt\)/.test(await announcements(obs)), 'others told who has the floor');
    await btn(eg, 'Yield the floor').click();
    for (const p of all) await waitText(region(p, 'Current speaker'), /Nobody has the floor/);
    assert.equal(await btn(eg, 'Yield the floor').count(), 0, 'Yield is gone once the floor is given back');
  });

  it('grants a chosen entry; the countdown runs and turns to overtime when time is up', async () => {
    await btn(chair, /Grant the floor to Claire Dubois/).click();
    for (const p of all) await waitText(region(p, 'Current speaker'), 'Claire Dubois');
    const timer = obs.getByRole('timer');
    const first = await waitText(timer, /^0:0[1-4]$/);
    await until(async () => {
      const t = await timer.textContent();
      return /^0:0\d$/.test(t) && t < first;
    }, 'the countdown to go down');
    // speech_s is 4: the server signals time up; every screen shows overtime.
    for (const p of all) {
      await waitText(p.getByRole('timer'), /^\+0:\d\d/);
      await waitText(region(p, 'Current speaker'), /Time is up/);
    }
    await until(async () => /time is up/i.test(await announcements(fr)), 'fr told "time is up"');
    // each status is said once on the page (and found once by its words)
    await fr.getByText('Time is up').waitFor();
    await btn(fr, 'Yield the floor').click();
    for (const p of all) await waitText(region(p, 'Current speaker'), /Nobody has the floor/);
    await waitSpeakers(obs, [EG.name]);
    // speaking-time statistics per delegation, for the chair
    const stats = region(chair, 'Speaking time');
    await waitText(stats.getByRole('row').filter({ hasText: 'France' }), /France\s*1\s*\d+:\d\d/);
    await waitText(stats.getByRole('row').filter({ hasText: 'Egypt' }), /Egypt\s*1/);
  });

  it('pauses, resumes and adds time', async () => {
    await btn(chair, 'Next speaker').click();
    await waitText(region(obs, 'Current speaker'), EG.name);
    await btn(chair, 'Add time').click(); // 60 s by default
    await waitText(region(obs, 'Current speaker'), /Allotted 1:04/);
    await btn(chair, 'Pause').click();
    await waitText(region(obs, 'Current speaker'), /Paused/);
    const frozen = await obs.getByRole('timer').textContent();
    await obs.waitForTimeout(1300);
    assert.equal(await obs.getByRole('timer').textContent(), frozen, 'a paused clock stands still');
    await btn(chair, 'Resume').click();
    await until(async () => !/Paused/.test(await region(obs, 'Current speaker').textContent()), 'resumed');
    await btn(chair, 'End the floor').click();
    for (const p of all) await waitText(region(p, 'Current speaker'), /Nobody has the floor/);
  });

  it('mutes and unmutes a delegate; a refused message shows the server\'s reason', async () => {
    const row = region(chair, 'Participants').getByRole('listitem').filter({ hasText: 'Egypt' });
    await btn(row, /^Mute/).click();
    await waitText(row, /Muted/);
    await btn(row, /^Unmute/).waitFor();
    await waitText(region(eg, 'Discussion'), /muted you/);
    await eg.getByLabel('Message').fill('May I add something?');
    await btn(eg, 'Send').click();
    const err = region(eg, 'Discussion').getByRole('alert');
    await waitText(err, /mute/i);
    await btn(row, /^Unmute/).click();
    await btn(row, /^Mute/).waitFor();
    await btn(eg, 'Send').click();
    for (const p of all) {
      const msgs = region(p, 'Discussion').getByRole('listitem').filter({ hasText: 'May I add something?' });
      await until(async () => (await msgs.count()) === 1, 'the message shown once');
    }
    assert.equal(await eg.getByLabel('Message').inputValue(), '', 'the box is cleared once sent');
  });

  it('shows the server\'s message next to a refused request (closed list)', async () => {
    await btn(chair, 'Close the list').click();
    for (const p of all) await waitText(region(p, 'Speakers list'), /Closed/);
    await btn(fr, 'Request the floor').click();
    const err = region(fr, 'Your participation').getByRole('alert');
    await waitText(err, /closed/i);
    await btn(chair, 'Open the list').click();
    await waitText(region(fr, 'Speakers list'), /Open/);
    await btn(fr, 'Request the floor').click();
    await until(async () => !(await err.isVisible()), 'the message cleared when it worked');
    await waitSpeakers(obs, ['Claire Dubois']);
  });

  it('removes a participant only after confirmation', async () => {
    const row = () => region(chair, 'Participants').getByRole('listitem').filter({ hasText: 'Egypt' });
    await btn(row(), /Remove participant/).click();
    const dialog = chair.getByRole('dialog');
    await dialog.waitFor();
    await btn(dialog, 'Cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await row().count(), 1, 'cancel keeps the participant');
    await btn(row(), /Remove participant/).click();
    await btn(dialog, /Yes, remove/).click();
    await waitText(eg.locator('main'), /You have been removed/);
    for (const p of [chair, fr, obs]) {
      await until(async () => (await region(p, 'Participants').getByRole('listitem').filter({ hasText: 'Egypt' }).count()) === 0, 'Egypt gone');
      await waitSpeakers(p, ['Claire Dubois']);
    }
    // A removed participant's page stays on its final message (no reconnect loop).
    await eg.waitForTimeout(1500);
    await waitText(eg.locator('main'), /You have been removed/);
    assert.equal(await eg.getByRole('button').count(), 0);
  });

  it('lets the chair set the agenda item, the status and the settings', async () => {
    await chair.getByLabel('Agenda item').selectOption('q2');
    await btn(chair, 'Take up item').click();
    for (const p of [chair, fr, obs]) {
      await waitText(p.getByRole('banner'), 'Strengthening international cooperation');
      await waitText(region(p, 'Agenda').locator('[aria-current]'), 'Strengthening international cooperation');
    }

    await chair.getByLabel('Meeting status').selectOption('suspended');
    await btn(chair, 'Set status').click();
    await waitText(fr.locator('#banner'), /meeting is suspended/i);
    await btn(fr, 'Withdraw').click();
    await waitText(region(fr, 'Your participation').getByRole('alert'), /suspended/i);
    await chair.getByLabel('Meeting status').selectOption('open');
    await btn(chair, 'Set status').click();
    await until(async () => (await fr.getByText(/suspended/i).count()) === 0, 'suspension lifted, refusal cleared');

    await chair.getByLabel('Speech (seconds)').fill('90');
    await chair.getByLabel('Chat', { exact: true }).selectOption('floor');
    await btn(chair, 'Save settings').click();
    await waitText(region(chair, 'Settings'), /Settings saved/);
    // chat rule "floor": only the speaker holding the floor may write
    await btn(fr, 'Send').waitFor({ state: 'hidden' });
    assert.equal(await fr.getByLabel('Message').count(), 0, 'no message box');
    await btn(chair, 'Next speaker').click();
    await waitText(region(obs, 'Current speaker'), /Allotted 1:30/);
    await btn(fr, 'Send').waitFor();
    await btn(chair, 'End the floor').click();
    await btn(fr, 'Send').waitFor({ state: 'hidden' });
  });

  it('raised no script error on any page', () => {
    for (const p of all) assert.deepEqual(p.consoleErrors.filter((e) => !/WebSocket|4403|ERR_CONNECTION/.test(e)), []);
  });
});
