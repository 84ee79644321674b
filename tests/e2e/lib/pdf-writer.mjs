// A minimal PDF writer for tests: each page is US Letter with lines of text in Helvetica
// (a standard Type 1 font, so nothing is embedded) at a given size. The cross-reference table
// holds the exact byte offset of every object, as readers such as poppler check.

/** Escapes a string for a PDF literal string (ASCII text only). */
function pdfString(text) {
  if (/[^\x20-\x7e]/.test(text)) throw new Error(`pdf-writer: only printable ASCII is supported: ${JSON.stringify(text)}`);
  return `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/**
 * @param {string[][]} pages lines of text per page
 * @param {{fontSize?: number, leading?: number, margin?: number}} [options]
 * @returns {Buffer} the PDF file
 */
export function makePdf(pages, { fontSize = 16, leading = 1.6 * fontSize, margin = 72 } = {}) {
  const width = 612;
  const height = 792;
  const objects = []; // objects[n - 1] is the body of object n
  const add = (body) => objects.push(body) && objects.length;

  const catalog = add(null); // filled once the page tree exists
  const tree = add(null);
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids = pages.map((lines) => {
    const ops = [`BT /F1 ${fontSize} Tf ${leading} TL ${margin} ${height - margin - fontSize} Td`];
    lines.forEach((line, i) => ops.push(`${i ? 'T* ' : ''}${pdfString(line)} Tj`));
    ops.push('ET');
    const content = ops.join('\n');
    const stream = add(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`);
    return add(
      `<< /Type /Page /Parent ${tree} 0 R /MediaBox [0 0 ${width} ${height}] ` +
        `/Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${stream} 0 R >>`,
    );
  });
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${tree} 0 R >>`;
  objects[tree - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = objects.map((body, i) => {
    const at = Buffer.byteLength(out, 'latin1');
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const at of offsets) out += `${String(at).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Number of pages in a PDF written by makePdf (or any PDF with uncompressed page objects). */
export function countPdfPages(bytes) {
  return (bytes.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}
