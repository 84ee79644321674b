// End-to-end: the real `folio serve` (default engine: Tesseract) and the real page in headless
// Chromium. The test writes a 2-page PDF of known text, uploads it through the file picker,
// waits until the job is done and every page's text is shown, and checks that >= 90% of each
// page's words appear in that page's rendered Markdown (OCR may garble a word or two).
//
// Usage: node tests/e2e/upload.test.mjs [path/to/folio]   (or env FOLIO_BIN; default ../../build/folio)
// Exit status: 0 pass, 1 fail, 77 skip (no Chromium or playwright-core).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEB, ensureWebBuilt, freePort, launchBrowser, loadPlaywright, step, tempDir, words } from './lib/harness.mjs';
import { makePdf } from './lib/pdf-writer.mjs';

const FOLIO = resolve(process.argv[2] ?? process.env.FOLIO_BIN ?? fileURLToPath(new URL('../../build/folio', import.meta.url)));
const MIN_WORD_RECALL = 0.9;
const JOB_TIMEOUT = 180_000; // two pages of Tesseract on a busy 2-core machine, with margin

const PAGES = [
  [
    'Folio turns scanned pages into Markdown.',
    'The quick brown fox jumps over the lazy dog.',
    'Invoice number 4821 was paid in March.',
    'Seven large baskets of apples arrived today.',
  ],
  [
    'Second page of the uploaded document.',
    'Rivers carry water from mountains to the sea.',
    'Please return the signed contract by Friday.',
    'Library hours are nine until five.',
  ],
];

function startServer(port, jobsDb) {
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--jobs-db', jobsDb, '--web-dir', join(WEB, 'dist')];
  const child = spawn(FOLIO, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  child.stdout.on('data', (d) => log.push(d.toString()));
  child.stderr.on('data', (d) => log.push(d.toString()));
  child.exited = new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  child.log = () => log.join('').slice(-4000);
  console.log(`started ${FOLIO} ${args.join(' ')} (pid ${child.pid})`);
  return child;
}

async function waitForHealth(url, server, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  server.exited.then((e) => (exited = e));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`folio serve exited (${JSON.stringify(exited)}) before /health answered:\n${server.log()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return res.json();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer from ${url}/health within ${timeoutMs} ms:\n${server.log()}`);
}

async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await server.exited;
  clearTimeout(timer);
}

const playwright = loadPlaywright();
if (!existsSync(FOLIO)) {
  console.error(`FAIL: no folio binary at ${FOLIO} (build it, or pass its path / set FOLIO_BIN)`);
  process.exit(1);
}
ensureWebBuilt();
const out = tempDir('folio-e2e-');
const pdfPath = join(out, 'known-text.pdf');
writeFileSync(pdfPath, makePdf(PAGES, { fontSize: 16 }));

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = startServer(port, join(out, 'jobs.db'));
let browser = null;
let failed = false;

try {
  const health = await step('the server answers /health', () => waitForHealth(url, server));
  console.log(`engine: ${health.engine ?? '?'}, model: ${health.model ?? 'none'}`);

  browser = await launchBrowser(playwright);
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await step('the page is served at /', async () => {
    await page.goto(url);
    await page.getByRole('heading', { name: 'folio' }).waitFor({ timeout: 10_000 });
  });

  await step('a 2-page PDF uploads as a job and finishes', async () => {
    await page.locator('#file').setInputFiles(pdfPath);
    const outcome = await Promise.race([
      page.getByText(`Done: ${PAGES.length} of ${PAGES.length} pages.`).waitFor({ timeout: JOB_TIMEOUT }).then(() => 'done'),
      page.locator('#error').waitFor({ state: 'visible', timeout: JOB_TIMEOUT }).then(() => 'error'),
    ]);
    if (outcome === 'error') throw new Error(`the page shows an error: ${await page.locator('#error').textContent()}`);
  });

  for (const [i, lines] of PAGES.entries()) {
    await step(`page ${i + 1}'s text is shown (>= ${MIN_WORD_RECALL * 100}% of its words)`, async () => {
      await page.getByRole('tab', { name: `Page ${i + 1}`, exact: true }).click();
      const shown = page.locator('[role=tabpanel]:visible .markdown:visible').first();
      await shown.waitFor({ timeout: 10_000 });
      const seen = new Set(words(await shown.innerText()));
      const expected = words(lines.join(' '));
      const missing = expected.filter((w) => !seen.has(w));
      const recall = 1 - missing.length / expected.length;
      console.log(`  page ${i + 1}: ${expected.length - missing.length}/${expected.length} words found${missing.length ? `; missing: ${missing.join(' ')}` : ''}`);
      assert.ok(recall >= MIN_WORD_RECALL, `page ${i + 1}: only ${(recall * 100).toFixed(1)}% of the words are shown`);
    });
  }

  await step('page 1 image from the server, with its block boxes; screenshot', async () => {
    await page.getByRole('tab', { name: 'Page 1', exact: true }).click();
    await page.locator('[role=tabpanel]:visible').getByRole('tab', { name: 'Page', exact: true }).click();
    const img = page.locator('.page-stage:visible img');
    await img.waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('.page-stage img')?.complete, null, { timeout: 10_000 });
    const size = await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
    assert.ok(size[0] > 0 && size[1] > 0, 'the page image loads');
    const boxes = await page.locator('.page-stage:visible svg rect').count();
    console.log(`  page image ${size[0]} x ${size[1]} px, ${boxes} boxes`);
    assert.ok(boxes >= 1, 'at least one block box is drawn');
    await page.screenshot({ path: join(out, 'upload.png'), fullPage: true });
    console.log(`  ${join(out, 'upload.png')}`);
  });
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
} catch (e) {
  failed = true;
  console.error(e);
  console.error(`server log (tail):\n${server.log()}`);
} finally {
  await browser?.close();
  await stopServer(server);
}
process.exit(failed ? 1 : 0);
