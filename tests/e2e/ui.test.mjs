// Browser test of the web page's logic against the mock server (no engine needed): API key and
// JSON error display, paste of an image -> /v1/ocr, drop of a PDF -> job with per-page progress
// and per-page results as they arrive, polls that ride out a restart, a failed page, boxes over the page image, sanitising of
// hostile Markdown, TIFF routing, 400 errors, copy, downloads, and recent results (reload, reopen, clear).
// Exit status: 0 pass, 1 fail, 77 skip (no Chromium or playwright-core).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureWebBuilt, launchBrowser, loadPlaywright, step, tempDir } from './lib/harness.mjs';
import { makePdf } from './lib/pdf-writer.mjs';
import { makePagePng } from './lib/png-writer.mjs';
import { mockWords, startMockServer } from './mock-server.mjs';

const KEY = 'test-key-123';
const TIMEOUT = 15_000;

const playwright = loadPlaywright();
ensureWebBuilt();
const out = tempDir('folio-ui-e2e-');
const mock = await startMockServer({ apiKey: KEY });
const browser = await launchBrowser(playwright);
let failed = false;

/** Dispatches a synthetic paste/drop carrying one file (what a real paste or drop delivers). */
async function sendFile(page, eventType, selector, name, type, bytes) {
  await page.evaluate(
    ({ eventType, selector, name, type, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type }));
      const target = document.querySelector(selector);
      const event =
        eventType === 'paste'
          ? new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true })
          : new DragEvent(eventType, { dataTransfer: transfer, bubbles: true, cancelable: true });
      target.dispatchEvent(event);
    },
    { eventType, selector, name, type, b64: bytes.toString('base64') },
  );
}

async function assertNothingHostile(page) {
  const found = await page.evaluate(() => ({
    pwned: window.__pwned ?? null,
    scripts: document.querySelectorAll('#pages-view script').length,
    handlers: [...document.querySelectorAll('#pages-view *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    jsLinks: document.querySelectorAll('#pages-view a[href^="javascript:" i]').length,
    remoteImages: document.querySelectorAll('#pages-view .markdown img').length,
  }));
  assert.deepEqual(found, { pwned: null, scripts: 0, handlers: 0, jsLinks: 0, remoteImages: 0 });
}

const visibleMarkdown = (page) => page.locator('[role=tabpanel]:visible .markdown:visible').first();

try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: mock.url });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(TIMEOUT);

  await step('page loads with labelled controls', async () => {
    await page.goto(mock.url);
    await page.getByRole('heading', { name: 'folio' }).waitFor();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button')]
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.id),
    );
    assert.deepEqual(unlabelled, []);
  });

  const png = makePagePng(640, 480, 4);
  await step('without the key, the JSON error body is shown', async () => {
    await page.locator('#file').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: png });
    const alert = page.locator('#error');
    await alert.waitFor({ state: 'visible' });
    const text = await alert.textContent();
    assert.match(text, /unauthorized/);
    assert.match(text, /401/);
    assert.match(text, /missing or wrong API key/);
  });

  await step('the key is stored and sent as a Bearer token', async () => {
    await page.getByLabel('API key').fill(KEY);
    assert.equal(await page.evaluate(() => localStorage.getItem('folio.apiKey')), KEY);
  });

  await step('a pasted image goes to /v1/ocr with the chosen mode and task', async () => {
    await page.getByLabel('Mode').selectOption('tiny');
    await page.getByLabel('Task').selectOption('free');
    await sendFile(page, 'paste', 'body', 'image.png', 'image/png', png);
    await page.getByText(mockWords(0)).first().waitFor();
    assert.equal(await page.locator('#error').isHidden(), true);
    const call = mock.requests.filter((r) => r.path === '/v1/ocr').at(-1);
    assert.equal(call.authorization, `Bearer ${KEY}`);
    assert.equal(call.fields.mode, 'tiny');
    assert.equal(call.fields.task, 'free');
    assert.match(call.file.filename, /^pasted-.*\.png$/);
    await assertNothingHostile(page);
  });

  await step('the image view draws each block box over the uploaded image', async () => {
    await page.getByRole('tab', { name: 'Page', exact: true }).click();
    const img = page.locator('.page-stage img:visible');
    await img.waitFor();
    assert.match(await img.getAttribute('src'), /^blob:/);
    await page.locator('.page-stage svg rect').nth(2).waitFor({ state: 'attached' });
    assert.equal(await page.locator('.page-stage svg rect').count(), 3);
    assert.equal(await page.locator('.page-stage svg').getAttribute('viewBox'), '0 0 640 480');
    await page.getByRole('tab', { name: 'Raw text' }).click();
    assert.match(await page.locator('pre.raw:visible').textContent(), /<\|ref\|>title<\|\/ref\|>/);
    await page.getByRole('tab', { name: 'Markdown' }).click();
  });

  const pdf = makePdf([['first page'], ['second page'], ['third page']]);
  await step('a dropped PDF becomes a job with page-by-page progress', async () => {
    await page.getByLabel('Mode').selectOption('gundam');
    await page.getByLabel('Task').selectOption('document');
    await sendFile(page, 'drop', '#drop-zone', 'report.pdf', 'application/pdf', pdf);
    await page.getByText('page 1 of 3').waitFor();
    // the first page is shown while the job still runs
    await visibleMarkdown(page).getByText(mockWords(0)).waitFor();
    assert.equal(await page.getByRole('tab', { name: /Page 3/ }).getAttribute('class'), 'waiting');
    mock.failJobPolls(2); // the page rides out a server restart
    await page.getByText(/Lost the server \(the mock is restarting\); retrying/).waitFor();
    await page.getByText('page 2 of 3').waitFor();
    await page.getByText('Done: 3 of 3 pages.').waitFor();
    const jobCall = mock.requests.find((r) => r.path === '/v1/jobs');
    assert.equal(jobCall.fields.mode, 'gundam');
    assert.equal(mock.requests.some((r) => r.path === '/v1/ocr' && r.file?.filename === 'report.pdf'), false);
  });

  await step('each page tab shows its own result; the failed page says why', async () => {
    await page.getByRole('tab', { name: 'Page 2' }).click();
    await visibleMarkdown(page).getByText(mockWords(1)).waitFor();
    await page.getByRole('tab', { name: 'Page 3' }).click();
    await page.getByText('This page failed: invalid_input: page 3: mock render failure').waitFor();
    assert.match(await page.getByRole('tab', { name: 'Page 3' }).getAttribute('class'), /failed/);
    await assertNothingHostile(page);
  });

  await step('a job page image is fetched with the key and boxed', async () => {
    await page.getByRole('tab', { name: 'Page 2' }).click();
    await page.locator('[role=tabpanel]:visible').getByRole('tab', { name: 'Page', exact: true }).click();
    await page.locator('.page-stage img:visible').waitFor();
    const imageCall = mock.requests.find((r) => /\/pages\/1\/image$/.test(r.path));
    assert.equal(imageCall?.authorization, `Bearer ${KEY}`);
    assert.equal(await page.locator('.page-stage:visible svg rect').count(), 3);
    await page.screenshot({ path: join(out, 'job-page-boxes.png'), fullPage: true });
    await page.locator('[role=tabpanel]:visible').getByRole('tab', { name: 'Markdown' }).first().click();
  });

  await step('copy and downloads give the whole document', async () => {
    await page.getByRole('button', { name: 'Copy Markdown' }).click();
    await page.getByText('Markdown copied.').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(copied.includes(mockWords(0)) && copied.includes(mockWords(1)), 'clipboard holds pages 1 and 2');
    assert.ok(copied.indexOf('<!-- page 1 -->') < copied.indexOf('<!-- page 2 -->'), 'pages in order');

    const [md] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .md' }).click()]);
    assert.equal(md.suggestedFilename(), 'report.md');
    assert.equal(readFileSync(await md.path(), 'utf8'), copied);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .json' }).click()]);
    assert.equal(json.suggestedFilename(), 'report.json');
    const doc = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.deepEqual(doc.pages.map((p) => p.index), [0, 1, 2]);
    assert.equal(doc.pages[1].blocks.length, 3);
  });

  await step('recent results survive a reload, reopen, and clear', async () => {
    await page.reload();
    const items = page.locator('#history-list li');
    assert.equal(await items.count(), 2);
    assert.match(await items.first().textContent(), /report\.pdf\s+3 p\./);
    await items.first().getByRole('button').click();
    await page.getByRole('tab', { name: 'Page 2' }).click();
    await visibleMarkdown(page).getByText(mockWords(1)).waitFor();
    await page.screenshot({ path: join(out, 'ui.png'), fullPage: true });
    await page.getByRole('button', { name: 'Clear' }).click();
    assert.equal(await items.count(), 0);
    assert.equal(await page.evaluate(() => localStorage.getItem('folio.history.v1')), null);
    assert.equal(await page.getByLabel('API key').inputValue(), KEY, 'the key survives the reload');
  });

  await step('a multi-page TIFF goes to /v1/jobs, a single-page one to /v1/ocr; a 400 is shown', async () => {
    // Bare TIFF headers: IFDs without entries, chained; enough for the page's page-count check.
    const tiff = (ifds) => {
      const bytes = Buffer.alloc(8 + ifds * 6);
      bytes.write('II', 0, 'latin1');
      bytes.writeUInt16LE(42, 2);
      bytes.writeUInt32LE(8, 4);
      for (let i = 0; i < ifds; i++) bytes.writeUInt32LE(i + 1 < ifds ? 8 + (i + 1) * 6 : 0, 8 + i * 6 + 2);
      return bytes;
    };
    await page.locator('#file').setInputFiles({ name: 'fax.tif', mimeType: 'image/tiff', buffer: tiff(2) });
    await page.getByText('fax.tif: not a PDF with pages').waitFor();
    assert.equal(mock.requests.at(-1).path, '/v1/jobs');
    assert.match(await page.locator('#error').textContent(), /invalid_input \(HTTP 400\)/);
    await page.locator('#file').setInputFiles({ name: 'one.tif', mimeType: 'image/tiff', buffer: tiff(1) });
    await page.getByText('one.tif: the mock reads PNG only').waitFor();
    assert.equal(mock.requests.at(-1).path, '/v1/ocr');
  });

  await step('the custom task needs a prompt', async () => {
    await page.getByLabel('Task').selectOption('custom');
    const before = mock.requests.length;
    await page.locator('#file').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: png });
    await page.getByText('task "custom" needs a prompt').waitFor();
    assert.equal(mock.requests.length, before, 'nothing was sent');
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  console.log(`screenshots in ${out}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  await mock.close();
}
process.exit(failed ? 1 : 0);
