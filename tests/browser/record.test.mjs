// The record in the browser (contract 9.4-9.6, web-client.md): a delegate
// attaches a statement (pasted, then replaced from a file), the
// interpreter reads it (and has no other control or text input), the
// observer does not see it until it is published in the Statements region;
// the chair accepts another request in writing, publishes the conclusions
// (shown to everyone in the Conclusions region with the fingerprint),
// downloads the record in three formats, and prints the minutes: the
// minutes page is printed to PDF by headless Chromium and its pages are
// rendered with pdftoppm and checked. axe on every new view.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  launch, startMeeting, open, invite, region, btn, speakers, waitText, until, axeAudit, tmpDir, T,
} from './browser.mjs';

const CHAIR = { sub: 'chair', name: 'Ana Silva', role: 'moderator' };
const FR = { sub: 'fr', name: 'Claire Dubois', role: 'delegate', delegation: 'France', category: 'member_state', region: 'Western European and other States' };
const EG = { sub: 'eg', name: 'أميرة حداد', role: 'delegate', delegation: 'Egypt', category: 'member_state', region: 'African States' };
const INT = { sub: 'int-fr', name: 'Interprète cabine FR', role: 'interpreter' };
const OBS = { sub: 'press-1', name: 'Press gallery', role: 'observer' };

const SECRET = 'Madame la Présidente, EMBARGO-WEB-3c9: la France se félicite.';
const SECRET2 = 'Madame la Présidente, EMBARGO-WEB-3c9 version 2 (from a file).\nSecond paragraph.';

describe('statements, conclusions and the record in the browser', { timeout: 300000 }, () => {
  let server; let room; let browser; let dir;
  let chair; let fr; let eg; let interp; let obs;

  before(async () => {
    ({ server, room } = await startMeeting({ settings: { speech_s: 300 } }));
    browser = await launch();
    dir = tmpDir('rostrum-record-web-');
    chair = await open(browser, server, room.id, CHAIR);
    fr = await open(browser, server, room.id, FR);
    eg = await open(browser, server, room.id, EG);
    interp = await open(browser, server, room.id, INT);
    obs = await open(browser, server, room.id, OBS);
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('the interpreter: listed, no control but reading, no text input', async () => {
    await waitText(region(chair, 'Participants'), /Interprète cabine FR/);
    assert.equal(await interp.locator('textarea, input:not([type=hidden]), select').count(), 0);
    for (const name of ['Request the floor', 'Send', 'Next speaker', 'Attach a statement', 'Publish the conclusions']) {
      assert.equal(await btn(interp, name).count(), 0, name);
    }
    await region(interp, 'Statements to interpret').waitFor();
    assert.deepEqual(await axeAudit(interp), []);
  });

  it('a delegate attaches a statement, then replaces it from a file; the interpreter reads it, others do not', async () => {
    await btn(fr, 'Request the floor').click();
    await btn(eg, 'Request the floor').click();
    for (const p of [chair, obs]) await until(async () => (await speakers(p).count()) === 2, 'two requests');
    const me = region(fr, 'Your participation');
    await me.getByLabel('Statement text').fill(SECRET);
    await btn(me, 'Attach a statement').click();
    await waitText(speakers(chair).first(), /Statement/);
    await waitText(region(interp, 'Statements to interpret'), /EMBARGO-WEB-3c9: la France/);
    // replaced from a file
    const file = path.join(dir, 'statement.txt');
    fs.writeFileSync(file, SECRET2);
    await me.getByLabel('Or load it from a text file').setInputFiles(file);
    await until(async () => (await me.getByLabel('Statement text').inputValue()) === SECRET2, 'the file in the box');
    await btn(me, 'Attach a statement').click();
    await waitText(region(interp, 'Statements to interpret'), /version 2 \(from a file\)/);
    // Egypt attaches one too (for "Accept in writing")
    await region(eg, 'Your participation').getByLabel('Statement text').fill('Egypt: circulated in writing, شكرا.');
    await btn(region(eg, 'Your participation'), 'Attach a statement').click();
    await until(async () => (await speakers(chair).nth(1).textContent()).includes('Statement'), 'Egypt\'s statement tag');
    // the embargo in the pages of those who may not read it
    for (const p of [obs, eg]) {
      const html = await p.content();
      assert.ok(!html.includes('EMBARGO-WEB'), 'the text is on a page that may not read it');
      const st = JSON.stringify(await p.evaluate(() => window.rostrum.state.room));
      assert.ok(!st.includes('EMBARGO-WEB'));
    }
    assert.deepEqual(await axeAudit(fr), []);
  });

  it('published on delivery and accepted in writing: the Statements region, for everyone', async () => {
    await btn(speakers(chair).first(), /Grant the floor/).click();
    await waitText(region(interp, 'Statements to interpret'), /Speaking now/);
    await btn(fr, 'Yield the floor').click();
    for (const p of [obs, eg, fr, chair, interp]) await waitText(region(p, 'Statements'), /version 2 \(from a file\)/);
    await waitText(region(obs, 'Statements'), /Delivered \(check against delivery\)/);
    await btn(chair, /Accept in writing/).click();
    for (const p of [obs, eg]) await waitText(region(p, 'Statements'), /Circulated in writing/);
    await waitText(region(obs, 'Statements'), /شكرا/);
    assert.deepEqual(await axeAudit(obs), []);
  });

  it('the chair publishes the conclusions; everyone sees them with the fingerprint', async () => {
    const rec = (await server.api('GET', `/api/rooms/${room.id}/transcript?format=json`)).json;
    const ctl = region(chair, 'Conclusions and record');
    await ctl.getByLabel('Conclusions').fill('The Chair concluded:\n1. Cooperation matters.\n2. We meet again.');
    await btn(ctl, 'Publish the conclusions').click();
    for (const p of [obs, fr, eg, interp, chair]) {
      const c = region(p, 'Conclusions');
      await waitText(c, /Cooperation matters/);
      await waitText(c, new RegExp(`Record fingerprint: ${rec.chain.head.slice(0, 16)} \\(seq ${rec.chain.last_seq}\\)`));
    }
    assert.deepEqual(await axeAudit(chair), []);
  });

  it('the chair downloads the record as JSON, Markdown and CSV (with the room token, no admin key)', async () => {
    const ctl = region(chair, 'Conclusions and record');
    for (const [value, check] of [['json', (t) => JSON.parse(t).chain.last_seq > 0], ['md', (t) => /## Conclusions/.test(t) && /## Attendance/.test(t)], ['csv', (t) => /^seq,time_utc,event/.test(t)]]) {
      await ctl.getByLabel('Format').selectOption(value);
      const [dl] = await Promise.all([chair.waitForEvent('download', { timeout: T }), btn(ctl, 'Download the record').click()]);
      const file = path.join(dir, dl.suggestedFilename());
      await dl.saveAs(file);
      assert.ok(dl.suggestedFilename().endsWith(`.${value}`));
      assert.ok(check(fs.readFileSync(file, 'utf8')), `${value} download`);
    }
    // a delegate's token is refused
    const t = await fr.evaluate(() => sessionStorage.getItem('rostrum.token'));
    const res = await fetch(`${server.http}/api/rooms/${room.id}/transcript?format=json`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal(res.status, 401);
  });

  it('every view of the record fits a 320 px screen', async () => {
    for (const p of [fr, chair, interp, obs]) {
      await p.setViewportSize({ width: 320, height: 640 });
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px too wide at 320px`);
      await p.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('the minutes print: a print stylesheet, pages checked with pdftoppm', async () => {
    const ctl = region(chair, 'Conclusions and record');
    const [popup] = await Promise.all([chair.waitForEvent('popup', { timeout: T }), btn(ctl, 'Print the minutes').click()]);
    await popup.locator('body[data-ready="true"]').waitFor({ timeout: T });
    await waitText(popup.getByRole('heading', { level: 2, name: 'Conclusions' }), 'Conclusions');
    await waitText(popup.locator('main'), /Attendance/);
    assert.deepEqual(await axeAudit(popup), []);
    await popup.emulateMedia({ media: 'print' });
    assert.equal(await popup.locator('.minutes-bar').isVisible(), false, 'the print button is printed');
    const pdf = path.join(dir, 'minutes.pdf');
    await popup.pdf({ path: pdf, format: 'A4', printBackground: false });
    assert.ok(fs.statSync(pdf).size > 5000);
    const r = spawnSync('pdftoppm', ['-png', '-r', '50', pdf, path.join(dir, 'page')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const pages = fs.readdirSync(dir).filter((f) => /^page-\d+\.png$/.test(f)).sort();
    assert.ok(pages.length >= 1, 'no page rendered');
    // the text is on the pages: pdftotext when there, else the PDF holds the fonts' text
    const txt = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
    if (txt.status === 0) {
      assert.match(txt.stdout, /Conclusions/);
      assert.match(txt.stdout, /Attendance/);
      assert.match(txt.stdout, /Record integrity/);
      assert.match(txt.stdout, /circulated in writing/);
    }
    // every page has ink, none is blank
    for (const p of pages) assert.ok(fs.statSync(path.join(dir, p)).size > 2000, `${p} looks blank`);
    fs.mkdirSync(path.join(dir, 'keep'), { recursive: true });
    fs.copyFileSync(path.join(dir, pages[0]), path.join(dir, 'keep', 'minutes-page-1.png'));
    console.log(`# minutes: ${pages.length} page(s), first at ${path.join(dir, 'keep', 'minutes-page-1.png')}`);
    await popup.close();
  });
});
