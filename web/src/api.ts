// Thin client for the folio HTTP API. Every /v1 call carries the API key (when set) as
// `Authorization: Bearer`; every failure becomes an ApiError whose message comes from the JSON
// error body `{"error":{"kind","message"}}` when there is one.
import type { JobCreated, JobState, OcrOptions, OcrResponse } from './types';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly kind: string,
  ) {
    super(message);
  }
}

let apiKey = '';
export function setApiKey(key: string): void {
  apiKey = key.trim();
}

function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return apiKey ? { ...extra, Authorization: `Bearer ${apiKey}` } : extra;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let kind = 'http';
  let message = `${res.status} ${res.statusText}`.trim();
  try {
    const body = await res.json();
    if (body && typeof body.error === 'object' && body.error) {
      if (typeof body.error.kind === 'string') kind = body.error.kind;
      if (typeof body.error.message === 'string') message = body.error.message;
    }
  } catch {
    // not JSON: keep the status line
  }
  const retry = res.headers.get('Retry-After');
  if (res.status === 429 && retry) message += ` (retry after ${retry} s)`;
  return new ApiError(message, res.status, kind);
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: authHeaders(init.headers as Record<string, string>) });
  } catch (e) {
    throw new ApiError(`cannot reach the server: ${(e as Error).message}`, 0, 'network');
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

function formFor(file: File, opts: OcrOptions): FormData {
  const form = new FormData();
  form.append('file', file, file.name || 'upload');
  form.append('mode', opts.mode);
  form.append('task', opts.task);
  if (opts.prompt.trim()) form.append('prompt', opts.prompt.trim());
  if (opts.pages.trim()) form.append('pages', opts.pages.trim());
  return form;
}

export async function ocrImage(file: File, opts: OcrOptions): Promise<OcrResponse> {
  const res = await call('/v1/ocr', { method: 'POST', body: formFor(file, opts), headers: { Accept: 'application/json' } });
  return (await res.json()) as OcrResponse;
}

export async function createJob(file: File, opts: OcrOptions): Promise<JobCreated> {
  const res = await call('/v1/jobs', { method: 'POST', body: formFor(file, opts) });
  return (await res.json()) as JobCreated;
}

export async function getJob(id: string): Promise<JobState> {
  const res = await call(`/v1/jobs/${encodeURIComponent(id)}`);
  return (await res.json()) as JobState;
}

export async function cancelJob(id: string): Promise<void> {
  await call(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** The rendered page as an object URL; the caller revokes it. Fetched (not <img src>) so the key is sent. */
export async function jobPageImageUrl(id: string, index: number): Promise<string> {
  const res = await call(`/v1/jobs/${encodeURIComponent(id)}/pages/${index}/image`);
  return URL.createObjectURL(await res.blob());
}
