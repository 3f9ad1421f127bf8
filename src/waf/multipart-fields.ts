import busboy from 'busboy';

/** One inspected piece of a multipart body: a text field, or the file name of a file part. */
export interface MultipartField {
  readonly name: string;
  readonly value: string;
  /** `filename` for the file name of a file part (file contents are not inspected). */
  readonly kind: 'field' | 'filename';
}

export interface MultipartFieldLimits {
  readonly maxParts: number;
  readonly maxFieldBytes: number;
}

/**
 * Reads the text fields and file names of a buffered multipart/form-data body. File contents
 * are skipped (binary data would only produce false positives). A body busboy cannot read
 * yields what was read before the error; the upstream will refuse it too.
 */
export function multipartFields(
  body: Buffer,
  contentType: string,
  limits: MultipartFieldLimits,
): Promise<MultipartField[]> {
  return new Promise((resolve) => {
    const out: MultipartField[] = [];
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: {
          parts: limits.maxParts,
          fields: limits.maxParts,
          files: limits.maxParts,
          fieldSize: limits.maxFieldBytes,
          fieldNameSize: 200,
        },
        defParamCharset: 'utf8',
        preservePath: true, // the file name as sent: `../../x` is the point
      });
    } catch {
      resolve(out);
      return;
    }
    parser.on('field', (name, value) => out.push({ name, value, kind: 'field' }));
    parser.on('file', (name, stream, info) => {
      if (info.filename) out.push({ name, value: info.filename, kind: 'filename' });
      stream.resume();
    });
    parser.on('close', () => resolve(out));
    parser.on('error', () => resolve(out));
    parser.end(body);
  });
}
