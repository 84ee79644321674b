// Shapes of the folio HTTP API (docs/API.md). Fields the server may leave out are optional:
// the page treats every response as untrusted input.

export interface Block {
  label: string;
  text: string;
  box: [number, number, number, number]; // x1, y1, x2, y2 in page pixels
}

export interface PageResult {
  index: number; // 0-based
  markdown?: string;
  text?: string;
  raw?: string;
  blocks?: Block[];
  finish_reason?: string;
  timings?: Record<string, unknown>;
  width?: number;
  height?: number;
  error?: string | { kind?: string; message?: string } | null;
}

export interface OcrResponse {
  pages: PageResult[];
  engine?: string;
  model?: string;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobCreated {
  id: string;
  status: JobStatus;
  pages_total: number;
}

export interface JobState extends JobCreated {
  pages_done: number;
  created_at?: string | number;
  pages?: PageResult[];
  error?: unknown;
}

export interface OcrOptions {
  mode: string;
  task: string;
  prompt: string;
  pages: string;
}

/** One finished (or partly finished) document as the page shows and stores it. */
export interface DocumentResult {
  name: string;
  when: number; // ms since epoch
  engine?: string;
  model?: string;
  jobId?: string; // set for job results: page images come from the server
  pages: PageResult[];
}
