// Recent results kept in this browser (localStorage). Bounded twice: at most MAX_ENTRIES documents
// and about MAX_CHARS of JSON; the oldest go first, also when the browser's quota says no.
// Page images are not stored (only job results can fetch theirs again, while the server keeps them).
import type { DocumentResult } from './types';

const KEY = 'folio.history.v1';
const MAX_ENTRIES = 20;
const MAX_CHARS = 2_000_000;

export function loadHistory(): DocumentResult[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((d) => d && Array.isArray(d.pages) && typeof d.name === 'string') : [];
  } catch {
    return [];
  }
}

/** Puts `doc` first (replacing an entry of the same job) and trims the list to its bounds. */
export function remember(doc: DocumentResult): DocumentResult[] {
  let list = [doc, ...loadHistory().filter((d) => !(doc.jobId && d.jobId === doc.jobId))].slice(0, MAX_ENTRIES);
  while (list.length > 0) {
    const json = JSON.stringify(list);
    if (json.length <= MAX_CHARS) {
      try {
        localStorage.setItem(KEY, json);
        return list;
      } catch {
        // quota exceeded: drop the oldest and try again
      }
    }
    list = list.slice(0, -1);
  }
  localStorage.removeItem(KEY); // even this one document does not fit
  return [];
}

export function clearHistory(): void {
  localStorage.removeItem(KEY);
}
