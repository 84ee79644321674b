// A stand-in for `folio serve` that follows docs/API.md, for testing the web page's logic
// without an engine: it serves web/dist and answers /health, /v1/ocr and /v1/jobs.
//
// Behaviour the UI test relies on:
// - Every page's Markdown carries a hostile payload (<script>, onerror, javascript: link) that the
//   page must neutralise, and known words ("mock page N words ...").
// - A job advances by exactly one page per GET /v1/jobs/{id} after the first, so progress is
//   deterministic; the last page of a job of 3+ pages fails with a per-page error.
// - After failJobPolls(n), the next n job polls answer 503 (a server restart, seen from the page).
// - With `apiKey`, /v1/* answers 401 with the contract's JSON error unless `Authorization: Bearer KEY`.
//
// Run alone: node tests/e2e/mock-server.mjs [port] (serves web/dist; handy for looking at the page).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMultipart } from './lib/multipart.mjs';
import { countPdfPages } from './lib/pdf-writer.mjs';
import { makePagePng, pngSize } from './lib/png-writer.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_DIST = resolve(HERE, '../../web/dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };
const MAX_BODY = 20 * 1024 * 1024;

export const HOSTILE =
  '<script>window.__pwned = "script"</script>\n\n<img src="x" onerror="window.__pwned = \'onerror\'">\n\n' +
  '[click me](javascript:window.__pwned=\'link\')\n\n<a href="#" onclick="window.__pwned=\'click\'">harmless link</a>';

/** Words the mock puts on page `index` (0-based) of a document called `name`. */
export function mockWords(index) {
  return `mock page ${index + 1} words zebra${index + 1} quartz${index + 1}`;
}

function pageResult(index, width, height) {
  const blocks = [
    { label: 'title', text: `Mock page ${index + 1}`, box: [72, 72, 400, 110] },
    { label: 'text', text: mockWords(index), box: [72, 150, 540, 300] },
    { label: 'table', text: 'a | b', box: [72, 340, 300, 420] },
  ];
  const markdown = `# Mock page ${index + 1}\n\n${mockWords(index)}\n\n<table><tr><td>a</td><td>b</td></tr></table>\n\n${HOSTILE}\n`;
  return {
    index,
    markdown,
    text: `Mock page ${index + 1}\n${mockWords(index)}`,
    raw: `<|ref|>title<|/ref|><|det|>[[72, 72, 400, 110]]<|/det|>\n# Mock page ${index + 1}`,
    blocks,
    finish_reason: 'stop',
    timings: { total_ms: 1 },
    width,
    height,
    error: null,
  };
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(res, status, kind, message) {
  sendJson(res, status, { error: { kind, message } });
}

function readBody(req) {
  return new Promise((resolveBody, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > MAX_BODY) reject(new Error('too large'));
      else parts.push(d);
    });
    req.on('end', () => resolveBody(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/**
 * Starts the mock on 127.0.0.1. `pageText(pdfBytes, index)`, when given, supplies each job page's
 * text (e.g. from pdftotext) in place of the mock words, to dry-run upload.test.mjs.
 * @returns {Promise<{url: string, requests: object[], close: () => Promise<void>}>}
 */
export async function startMockServer({ port = 0, distDir = DEFAULT_DIST, apiKey = '', pageText = null } = {}) {
  const jobs = new Map();
  const requests = []; // {method, path, authorization, fields, file}
  let nextJob = 1;
  let failingPolls = 0; // the next N job polls answer 503, as a restarting server would

  async function api(req, res, path) {
    const record = { method: req.method, path, authorization: req.headers.authorization ?? null };
    requests.push(record);
    if (apiKey && req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendError(res, 401, 'unauthorized', 'missing or wrong API key (send Authorization: Bearer KEY)');
    }
    if (req.method === 'POST' && (path === '/v1/ocr' || path === '/v1/jobs')) {
      let form;
      try {
        form = parseMultipart(await readBody(req), req.headers['content-type']);
      } catch (e) {
        return sendError(res, 400, 'invalid_input', `request body: ${e.message}`);
      }
      record.fields = form.fields;
      const file = form.files.file;
      if (!file) return sendError(res, 400, 'invalid_input', 'field "file" is required');
      record.file = { filename: file.filename, type: file.type, size: file.data.length };
      if (path === '/v1/ocr') {
        const size = pngSize(file.data);
        if (!size) return sendError(res, 400, 'invalid_input', `${file.filename}: the mock reads PNG only`);
        return sendJson(res, 200, { pages: [pageResult(0, size.width, size.height)], engine: 'mock', model: 'none' });
      }
      const total = countPdfPages(file.data);
      if (total === 0) return sendError(res, 400, 'invalid_input', `${file.filename}: not a PDF with pages`);
      const id = `job${nextJob++}`;
      jobs.set(id, { id, status: 'queued', pages_total: total, pages_done: 0, created_at: new Date().toISOString(), polls: 0, pdf: file.data });
      return sendJson(res, 202, { id, status: 'queued', pages_total: total });
    }
    const jobMatch = /^\/v1\/jobs\/([^/]+)(\/cancel|\/pages\/(\d+)\/image)?$/.exec(path);
    const job = jobMatch && jobs.get(jobMatch[1]);
    if (!job) return sendError(res, 404, 'not_found', `no such job or route: ${path}`);
    if (jobMatch[3] !== undefined && req.method === 'GET') {
      const index = Number(jobMatch[3]);
      if (index >= job.pages_total) return sendError(res, 404, 'not_found', `job ${job.id} has no page ${index}`);
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(makePagePng());
    }
    if (req.method === 'DELETE' || (req.method === 'POST' && jobMatch[2] === '/cancel')) {
      if (job.status === 'queued' || job.status === 'running') job.status = 'cancelled';
      return sendJson(res, 200, { id: job.id, status: job.status });
    }
    if (req.method !== 'GET' || jobMatch[2]) return sendError(res, 405, 'invalid_input', `${req.method} ${path} is not supported`);
    if (failingPolls > 0) {
      failingPolls--;
      return sendError(res, 503, 'unavailable', 'the mock is restarting');
    }
    if (job.status === 'queued' || job.status === 'running') {
      if (job.polls++ > 0) job.pages_done = Math.min(job.pages_total, job.pages_done + 1);
      job.status = job.pages_done === job.pages_total ? 'done' : job.pages_done > 0 ? 'running' : 'queued';
    }
    const pages = Array.from({ length: job.pages_done }, (_, i) => {
      const page = pageResult(i, 612, 792);
      if (pageText) page.markdown = page.text = pageText(job.pdf, i);
      if (job.pages_total >= 3 && i === job.pages_total - 1) {
        Object.assign(page, { markdown: '', text: '', raw: '', blocks: [], error: { kind: 'invalid_input', message: `page ${i + 1}: mock render failure` } });
      }
      return page;
    }).reverse(); // finished pages in any order: the page must sort them itself
    const { polls, pdf, ...state } = job;
    return sendJson(res, 200, { ...state, pages });
  }

  function serveStatic(req, res, path) {
    const root = resolve(distDir);
    const file = normalize(join(root, path === '/' ? 'index.html' : decodeURIComponent(path)));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      return sendError(res, 404, 'not_found', `${path}: no such file`);
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/health') return sendJson(res, 200, { status: 'ok', engine: 'mock', model: null, device: 'cpu', queue: { depth: 0, capacity: 8, in_flight: 0 }, memory: {} });
    if (path.startsWith('/v1/')) {
      return api(req, res, path).catch((e) => sendError(res, 500, 'internal', e.message));
    }
    return serveStatic(req, res, path);
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    failJobPolls: (n) => { failingPolls = n; },
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mock = await startMockServer({ port: Number(process.argv[2] ?? 8090), apiKey: process.env.MOCK_API_KEY ?? '' });
  console.log(`mock folio server on ${mock.url} (serving ${DEFAULT_DIST})`);
}
