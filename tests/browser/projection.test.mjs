// The projection (contract 9.2) of the browser client, clients/web/js/
// projection.js, against the vectors the C library passes too
// (protocol/projection-vectors.json; tests/unit/test_projection.c): once
// imported by Node, once as the page loads it from the server, in Chromium.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, root } from '../lib/harness.mjs';
import { launch, T } from './browser.mjs';
import { project } from '../../clients/web/js/projection.js';

const doc = JSON.parse(fs.readFileSync(path.join(root, 'protocol', 'projection-vectors.json'), 'utf8'));

describe('the projection in JavaScript', { timeout: 60000 }, () => {
  it('passes every shared vector (Node)', () => {
    assert.ok(doc.vectors.length >= 8);
    for (const v of doc.vectors) assert.deepEqual(project(v.room, v.now), v.expect, v.name);
  });

  it('refuses what it cannot read, as the C function does', () => {
    for (const room of [null, [], {}, { settings: {}, queue: {} }, { settings: { speech_s: '180' }, queue: [] },
      { settings: { changeover_s: 601 }, queue: [] }, { settings: {}, queue: [], floor: 7 },
      { settings: {}, queue: [{ kind: 'speech' }] }]) {
      assert.equal(project(room, 1000), null, JSON.stringify(room));
    }
  });

  describe('in Chromium, as the server serves it', () => {
    let server; let browser;
    before(async () => {
      server = await startServer({ dataDir: false });
      browser = await launch();
    });
    after(async () => {
      if (browser) await browser.close();
      if (server) await server.stop();
    });
    it('passes every shared vector', async () => {
      const page = await browser.newPage();
      page.setDefaultTimeout(T);
      await page.goto(`${server.http}/`);
      const got = await page.evaluate(async (vectors) => {
        const P = await import('/js/projection.js');
        return vectors.map((v) => P.project(v.room, v.now));
      }, doc.vectors);
      doc.vectors.forEach((v, i) => assert.deepEqual(got[i], v.expect, v.name));
    });
  });
});
