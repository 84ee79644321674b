// Wires the page: options and API key, uploads, the job/image flows, progress, errors, exports
// and the recent-results list. Single images go to POST /v1/ocr; PDFs and multi-page TIFFs become
// a job (POST /v1/jobs) polled until it ends, each page shown as soon as it is done.
import './style.css';
import { ApiError, cancelJob, createJob, getJob, jobPageImageUrl, ocrImage, setApiKey } from './api';
import { baseName, copyText, documentJson, documentMarkdown, download } from './exports';
import { kindOf } from './file-kind';
import { clearHistory, loadHistory, remember } from './history';
import { ResultsView, type ImageSource } from './results';
import type { DocumentResult, JobState, OcrOptions } from './types';
import { watchUploads } from './upload';

const POLL_MS = 700;
const MAX_MISSES = 12; // consecutive failed polls (about two minutes) before giving up on a job
const TRANSIENT = [0, 429, 502, 503, 504]; // no answer, overloaded, or a proxy in front of a restarting server
const KEY_STORAGE = 'folio.apiKey';

function $(id: string): HTMLElement;
function $<T extends HTMLElement>(id: string): T;
function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el;
}

const ui = {
  key: $<HTMLInputElement>('api-key'),
  mode: $<HTMLSelectElement>('mode'),
  task: $<HTMLSelectElement>('task'),
  prompt: $<HTMLInputElement>('prompt'),
  pages: $<HTMLInputElement>('pages'),
  drop: $('drop-zone'),
  picker: $<HTMLInputElement>('file'),
  again: $<HTMLButtonElement>('run-again'),
  status: $('status'),
  statusText: $('status-text'),
  progress: $<HTMLProgressElement>('progress'),
  cancel: $<HTMLButtonElement>('cancel'),
  error: $('error'),
  resultSection: $('result'),
  resultTitle: $('result-title'),
  copy: $<HTMLButtonElement>('copy'),
  downloadMd: $<HTMLButtonElement>('download-md'),
  downloadJson: $<HTMLButtonElement>('download-json'),
  notice: $('notice'),
  history: $('history-list'),
  clearHistory: $<HTMLButtonElement>('clear-history'),
};

const results = new ResultsView($('pages-view'));
let current: DocumentResult | null = null;
let lastFile: File | null = null;
let runId = 0; // bumps on each run: a stale poll loop or response sees it and stops
let currentJob: string | null = null;
let localImageUrl: string | null = null;

function options(): OcrOptions {
  return { mode: ui.mode.value, task: ui.task.value, prompt: ui.prompt.value, pages: ui.pages.value };
}

function showError(e: unknown): void {
  const message =
    e instanceof ApiError ? `${e.kind} (HTTP ${e.status || 'no response'}): ${e.message}` : `error: ${(e as Error)?.message ?? e}`;
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function setStatus(text: string, done?: number, total?: number): void {
  ui.status.hidden = false;
  ui.statusText.textContent = text;
  if (done !== undefined && total) {
    ui.progress.hidden = false;
    ui.progress.max = total;
    ui.progress.value = done;
  } else {
    ui.progress.hidden = true;
  }
}

function showDocument(doc: DocumentResult, total: number, images: ImageSource): void {
  current = doc;
  ui.resultSection.hidden = false;
  ui.resultTitle.textContent = doc.name;
  results.reset(total, images);
  doc.pages.forEach((p) => results.setPage(p));
}

async function run(file: File): Promise<void> {
  const id = ++runId;
  lastFile = file;
  ui.again.disabled = false;
  ui.error.hidden = true;
  ui.cancel.hidden = true;
  currentJob = null;
  if (localImageUrl) URL.revokeObjectURL(localImageUrl);
  localImageUrl = null;
  const opts = options();
  if (ui.prompt.required && !opts.prompt.trim()) {
    showError(new Error(`task "${opts.task}" needs a prompt`));
    ui.prompt.focus();
    return;
  }
  try {
    const kind = await kindOf(file);
    if (kind === 'image') {
      setStatus(`Reading ${file.name} …`);
      const response = await ocrImage(file, opts);
      if (id !== runId) return;
      localImageUrl = URL.createObjectURL(file);
      const url = localImageUrl;
      const doc: DocumentResult = { name: file.name, when: Date.now(), engine: response.engine, model: response.model, pages: response.pages ?? [] };
      showDocument(doc, doc.pages.length, async () => url);
      setStatus(`Done: ${doc.pages.length} page${doc.pages.length === 1 ? '' : 's'}${doc.engine ? ` (${doc.engine})` : ''}.`);
      finish(doc);
    } else {
      setStatus(`Uploading ${file.name} …`);
      const job = await createJob(file, opts);
      if (id !== runId) return;
      await followJob(id, file.name, job.id, job.pages_total);
    }
  } catch (e) {
    if (id !== runId) return;
    setStatus('Failed.');
    showError(e);
  }
}

async function followJob(id: number, name: string, jobId: string, total: number): Promise<void> {
  currentJob = jobId;
  ui.cancel.hidden = false;
  const doc: DocumentResult = { name, when: Date.now(), jobId, pages: [] };
  showDocument(doc, total, (i) => jobPageImageUrl(jobId, i));
  let state: JobState;
  let misses = 0;
  for (;;) {
    try {
      state = await getJob(jobId);
      misses = 0;
    } catch (e) {
      // The job lives on the server (it survives a restart): ride out a restart or overload.
      if (!(e instanceof ApiError && TRANSIENT.includes(e.status)) || ++misses > MAX_MISSES) throw e;
      if (id !== runId) return;
      setStatus(`Lost the server (${e.message}); retrying …`);
      await new Promise((r) => setTimeout(r, POLL_MS * 2 ** Math.min(misses, 4)));
      continue;
    }
    if (id !== runId) return;
    const pageCount = state.pages_total || total;
    for (const page of state.pages ?? []) {
      if (!doc.pages.some((p) => p.index === page.index)) {
        doc.pages.push(page);
        results.setPage(page);
      }
    }
    const doneCount = Math.min(state.pages_done ?? doc.pages.length, pageCount || Infinity);
    const label = pageCount ? `page ${doneCount} of ${pageCount}` : `${doneCount} pages`;
    if (state.status === 'queued') setStatus(`Queued (${label} done).`, doneCount, pageCount);
    else if (state.status === 'running') setStatus(`Working: ${label} done.`, doneCount, pageCount);
    else break;
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (id !== runId) return;
  }
  ui.cancel.hidden = true;
  currentJob = null;
  const verb = state.status === 'done' ? 'Done' : state.status === 'cancelled' ? 'Cancelled' : 'Failed';
  setStatus(`${verb}: ${doc.pages.length} of ${state.pages_total} pages.`, doc.pages.length, state.pages_total);
  if (state.status === 'failed') showError(new Error(jobErrorText(state.error) ?? 'the job failed'));
  if (doc.pages.length > 0) finish(doc);
}

function jobErrorText(error: unknown): string | null {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return null;
}

function finish(doc: DocumentResult): void {
  renderHistory(remember(doc));
}

function renderHistory(list: DocumentResult[]): void {
  ui.history.replaceChildren(
    ...list.map((doc) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = doc.name;
      const meta = document.createElement('span');
      meta.className = 'muted';
      meta.textContent = ` ${doc.pages.length} p. · ${new Date(doc.when).toLocaleString()}`;
      button.addEventListener('click', () => {
        runId++;
        ui.error.hidden = true;
        ui.cancel.hidden = true;
        setStatus(`From recent results (${new Date(doc.when).toLocaleString()}).`);
        const jobId = doc.jobId;
        showDocument(doc, doc.pages.length, async (i) => (jobId ? jobPageImageUrl(jobId, i) : null));
      });
      li.append(button, meta);
      return li;
    }),
  );
  ui.clearHistory.disabled = list.length === 0;
}

function notify(text: string): void {
  ui.notice.textContent = text;
  setTimeout(() => {
    if (ui.notice.textContent === text) ui.notice.textContent = '';
  }, 3000);
}

function syncPromptField(): void {
  const needs = ui.task.value === 'custom' || ui.task.value === 'locate';
  ui.prompt.disabled = !needs;
  ui.prompt.required = needs;
  ui.prompt.placeholder = ui.task.value === 'locate' ? 'the phrase to find' : ui.task.value === 'custom' ? 'your prompt' : 'only for locate and custom';
}

// --- wiring ---
ui.key.value = localStorage.getItem(KEY_STORAGE) ?? '';
setApiKey(ui.key.value);
ui.key.addEventListener('input', () => {
  setApiKey(ui.key.value);
  if (ui.key.value) localStorage.setItem(KEY_STORAGE, ui.key.value.trim());
  else localStorage.removeItem(KEY_STORAGE);
});
ui.task.addEventListener('change', syncPromptField);
syncPromptField();

watchUploads(ui.drop, ui.picker, (file) => void run(file));
ui.again.addEventListener('click', () => lastFile && void run(lastFile));
ui.cancel.addEventListener('click', async () => {
  if (!currentJob) return;
  try {
    await cancelJob(currentJob);
    notify('Cancel requested.');
  } catch (e) {
    showError(e);
  }
});
ui.copy.addEventListener('click', async () => {
  if (!current) return;
  try {
    await copyText(documentMarkdown(current));
    notify('Markdown copied.');
  } catch (e) {
    showError(e);
  }
});
ui.downloadMd.addEventListener('click', () => current && download(`${baseName(current)}.md`, 'text/markdown', documentMarkdown(current)));
ui.downloadJson.addEventListener('click', () => current && download(`${baseName(current)}.json`, 'application/json', documentJson(current)));
ui.clearHistory.addEventListener('click', () => {
  clearHistory();
  renderHistory([]);
  notify('Recent results cleared.');
});
renderHistory(loadHistory());
