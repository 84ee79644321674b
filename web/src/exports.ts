// Copy and download of a document: Markdown (pages joined, each headed by a comment with its
// number) and JSON (the API's page objects as received).
import type { DocumentResult } from './types';

export function documentMarkdown(doc: DocumentResult): string {
  const pages = [...doc.pages].sort((a, b) => a.index - b.index);
  if (pages.length === 1) return pages[0].markdown ?? pages[0].text ?? '';
  return pages.map((p) => `<!-- page ${p.index + 1} -->\n\n${p.markdown ?? p.text ?? ''}`).join('\n\n');
}

export function documentJson(doc: DocumentResult): string {
  const pages = [...doc.pages].sort((a, b) => a.index - b.index);
  return JSON.stringify({ name: doc.name, engine: doc.engine, model: doc.model, pages }, null, 2);
}

/** The upload's name without its extension, safe as a file name. */
export function baseName(doc: DocumentResult): string {
  const stem = doc.name.replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '_').slice(0, 80);
  return stem || 'folio';
}

export function download(filename: string, type: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Old browsers / insecure origins: a hidden textarea and execCommand.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}
