// Just enough multipart/form-data parsing for the mock server: fields as strings, files as Buffers.

/** @returns {{fields: Record<string,string>, files: Record<string,{filename:string, type:string, data:Buffer}>}} */
export function parseMultipart(body, contentType) {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!match) throw new Error('Content-Type: multipart/form-data with a boundary is required');
  const delimiter = Buffer.from(`--${match[1] ?? match[2]}`);
  const fields = {};
  const files = {};
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('multipart body is truncated');
    const part = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const data = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? 'application/octet-stream';
    if (name !== undefined) {
      if (filename !== undefined) files[name] = { filename, type, data };
      else fields[name] = data.toString('utf8');
    }
    at = next;
  }
  return { fields, files };
}
