"use client";

import { useEffect, useRef, useState } from "react";
import { formatCount } from "@/components/fleet/format";
import { ApiError } from "@/components/api/client";
import { countLineFeeds, filenameFrom, progressText, type ExportProgress } from "./download";
import { formatBytes } from "./format";

type ExportState =
  | { kind: "idle" }
  | { kind: "running"; progress: ExportProgress }
  | { kind: "done"; rows: number; bytes: number; filename: string }
  | { kind: "failed"; message: string };

/** Hands a finished file to the browser's downloads. */
function saveFile(parts: BlobPart[], filename: string): void {
  const url = URL.createObjectURL(new Blob(parts, { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Exports exactly the view (same filter, same resolved range as the table and
 * the summary) as CSV. The file streams in with progress (rows of the
 * summary's total, bytes), then is saved; Cancel stops the download and with
 * it the server's queries. The direct link serves the same file for sharing
 * or for the browser's own download manager.
 */
export function ExportButton({ query, total }: { query: string; total: number | null }) {
  const [state, setState] = useState<ExportState>({ kind: "idle" });
  const [bom, setBom] = useState(false);
  const controllerRef = useRef<AbortController | null>(null);
  const href = `/api/disconnects.csv?${query}${bom ? "&bom=1" : ""}`;

  useEffect(() => () => controllerRef.current?.abort(), []);

  async function run(): Promise<void> {
    const controller = new AbortController();
    controllerRef.current = controller;
    const progress: ExportProgress = { bytes: 0, rows: 0, total };
    setState({ kind: "running", progress: { ...progress } });
    try {
      // Its own fetch, not the query cache: the CSV is read chunk by chunk as it streams in, for the progress.
      const res = await fetch(href, { signal: controller.signal, cache: "no-store" });
      if (!res.ok || !res.body) throw await ApiError.from(res);
      const filename = filenameFrom(res.headers.get("content-disposition"), "keepwatch-disconnects.csv");
      const reader = res.body.getReader();
      const parts: Uint8Array[] = [];
      let lineFeeds = 0;
      let lastPaint = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parts.push(value);
        progress.bytes += value.byteLength;
        lineFeeds += countLineFeeds(value);
        progress.rows = Math.max(0, lineFeeds - 1);
        if (total !== null) progress.rows = Math.min(progress.rows, total);
        const now = performance.now();
        if (now - lastPaint > 100) {
          lastPaint = now;
          setState({ kind: "running", progress: { ...progress } });
        }
      }
      saveFile(parts as BlobPart[], filename);
      setState({ kind: "done", rows: Math.max(0, lineFeeds - 1), bytes: progress.bytes, filename });
    } catch (err) {
      if (controller.signal.aborted) setState({ kind: "idle" });
      else setState({ kind: "failed", message: err instanceof Error ? err.message : String(err) });
    } finally {
      if (controllerRef.current === controller) controllerRef.current = null;
    }
  }

  const running = state.kind === "running";
  const share =
    running && state.progress.total ? Math.min(100, (state.progress.rows / state.progress.total) * 100) : null;
  return (
    <div className="flex flex-wrap items-center gap-2 text-xs">
      <button
        type="button"
        data-testid="export-csv"
        disabled={running}
        onClick={() => void run()}
        title="download exactly this view (filter and time range) as CSV"
        className="h-8 rounded-md border border-emerald-600/60 bg-emerald-600/15 px-3 text-[13px] font-medium text-emerald-200 outline-none enabled:hover:bg-emerald-600/25 disabled:opacity-50 focus-visible:ring-2 focus-visible:ring-emerald-500"
      >
        ⤓ Export CSV{total !== null && !running ? ` (${formatCount(total)} rows)` : ""}
      </button>
      <label
        className="flex items-center gap-1 text-zinc-500"
        title="start the file with a UTF-8 byte order mark, so Excel on Windows reads non-ASCII ids correctly"
      >
        <input
          type="checkbox"
          data-testid="export-bom"
          checked={bom}
          onChange={(e) => setBom(e.target.checked)}
          className="accent-emerald-500"
        />
        for Excel
      </label>
      <a
        href={href}
        download
        data-testid="export-link"
        className="text-zinc-500 underline-offset-2 hover:text-zinc-300 hover:underline"
        title="the same CSV as a link: share it, or let the browser download it directly"
      >
        link
      </a>
      {running && (
        <span data-testid="export-progress" role="status" className="flex items-center gap-2 text-zinc-300">
          <span className="h-1.5 w-32 overflow-hidden rounded-full bg-zinc-800" aria-hidden="true">
            <span
              className={`block h-full bg-emerald-500 transition-[width] ${share === null ? "w-1/3 animate-pulse" : ""}`}
              style={share === null ? undefined : { width: `${share}%` }}
            />
          </span>
          <span className="tabular-nums">
            {progressText(state.progress)} · {formatBytes(state.progress.bytes)}
          </span>
          <button
            type="button"
            onClick={() => controllerRef.current?.abort()}
            className="rounded border border-zinc-700 px-1.5 text-zinc-300 hover:bg-zinc-800"
          >
            Cancel
          </button>
        </span>
      )}
      {state.kind === "done" && (
        <span data-testid="export-done" data-rows={state.rows} role="status" className="text-zinc-400">
          Saved {formatCount(state.rows)} rows ({formatBytes(state.bytes)}) as{" "}
          <span className="font-mono text-zinc-300">{state.filename}</span>
        </span>
      )}
      {state.kind === "failed" && (
        <span data-testid="export-error" role="alert" className="text-red-300">
          Export failed: {state.message}
        </span>
      )}
    </div>
  );
}
