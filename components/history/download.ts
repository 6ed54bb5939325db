/**
 * Reading a CSV export in the browser with progress: the response body is
 * read chunk by chunk (bytes and records counted as they arrive), then saved
 * as a file. Pure helpers here; the component drives them.
 */

/** The file name from a Content-Disposition header, or the fallback. */
export function filenameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(disposition) ?? /filename\s*=\s*([^;]+)/i.exec(disposition);
  const name = plain?.[1].trim();
  return name ? name : fallback;
}

/** Line feeds in a chunk: one per CSV record (a record with a line break inside its quotes counts twice). */
export function countLineFeeds(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

export interface ExportProgress {
  bytes: number;
  /** Data records received so far (header excluded), at most `total` when it is known. */
  rows: number;
  total: number | null;
}

/** "1,234 of 50,000 rows (2.5 %)" or "1,234 rows" when the total is unknown. */
export function progressText(p: ExportProgress): string {
  const rows = p.rows.toLocaleString("en");
  if (p.total === null || p.total === 0) return `${rows} rows`;
  const share = Math.min(100, (p.rows / p.total) * 100);
  return `${rows} of ${p.total.toLocaleString("en")} rows (${share.toFixed(share < 10 ? 1 : 0)} %)`;
}
