// Decides how a file is submitted: PDFs and multi-page TIFFs go to /v1/jobs (per-page progress),
// everything else to /v1/ocr. Looks at the bytes, not the name: a pasted image has no name and a
// file called "scan.png" may be a PDF.

export type FileKind = 'pdf' | 'multipage-tiff' | 'image';

export async function kindOf(file: File): Promise<FileKind> {
  const head = new Uint8Array(await file.slice(0, 1024).arrayBuffer());
  if (isPdf(head)) return 'pdf';
  if (isTiff(head) && (await tiffHasSecondPage(file))) return 'multipage-tiff';
  return 'image';
}

function isPdf(head: Uint8Array): boolean {
  // "%PDF-" may follow a little junk; readers accept it within the first 1024 bytes.
  const text = new TextDecoder('latin1').decode(head);
  return text.includes('%PDF-');
}

function isTiff(head: Uint8Array): boolean {
  return (
    head.length >= 8 &&
    ((head[0] === 0x49 && head[1] === 0x49 && head[2] === 42 && head[3] === 0) ||
      (head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && head[3] === 42))
  );
}

/** True when a classic TIFF has a second IFD (page); a malformed chain counts as one page. */
async function tiffHasSecondPage(file: File): Promise<boolean> {
  const bytes = new DataView(await file.arrayBuffer());
  const little = bytes.getUint8(0) === 0x49;
  const first = bytes.getUint32(4, little);
  if (first === 0 || first + 2 > bytes.byteLength) return false;
  const nextPointer = first + 2 + bytes.getUint16(first, little) * 12;
  if (nextPointer + 4 > bytes.byteLength) return false;
  const second = bytes.getUint32(nextPointer, little);
  return second !== 0 && second !== first && second + 2 <= bytes.byteLength;
}
