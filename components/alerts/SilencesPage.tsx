"use client";

import { useEffect, useState, type FormEvent } from "react";
import type { SilenceDto } from "@/lib/alerts/dto";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { canOperate, useMe } from "@/components/nav/me";
import { sendJson, shortTime } from "./format";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const STATES = ["active", "upcoming", "expired"] as const;

interface WindowDraft {
  day: (typeof DAYS)[number];
  start: string;
  minutes: string;
}

/** Silences and maintenance windows: listed by state, created, ended early. */
export function SilencesPage() {
  const me = useMe();
  const [silences, setSilences] = useState<SilenceDto[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);
  useEffect(() => {
    const ctl = new AbortController();
    fetch("/api/silences", { signal: ctl.signal })
      .then(async (r) => {
        const body = await r.json();
        if (!r.ok) throw new Error(body?.error?.message ?? `HTTP ${r.status}`);
        setSilences(body.silences);
        setError(null);
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctl.abort();
  }, [version]);
  async function end(id: string) {
    try {
      await sendJson("DELETE", `/api/silences/${id}`);
      reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="silences" />
        <TopNav />
      </header>
      <main className="flex flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Silences and maintenance windows</h1>
          <p className="text-xs text-zinc-500">
            While a silence mutes a device its alerts are recorded but not sent; when it ends, what still fires is sent
            once. Times in UTC.
          </p>
        </div>
        {error && <p className="text-xs text-red-400">{error}</p>}
        {canOperate(me) && <SilenceForm onCreated={reload} />}
        {STATES.map((state) => {
          const list = (silences ?? []).filter((s) => s.state === state);
          return (
            <section key={state} aria-labelledby={`${state}-h`} className="flex flex-col gap-1.5">
              <h2 id={`${state}-h`} className="text-sm font-medium text-zinc-200 capitalize">
                {state} <span className="text-zinc-500">{list.length}</span>
              </h2>
              {silences === null ? (
                <p className="text-xs text-zinc-500">Loading…</p>
              ) : list.length === 0 ? (
                <p className="text-xs text-zinc-500">None.</p>
              ) : (
                <table className="w-full text-left text-[13px]">
                  <thead className="text-xs text-zinc-500">
                    <tr>
                      <th className="py-1 pr-3 font-normal">Devices</th>
                      <th className="py-1 pr-3 font-normal">When</th>
                      <th className="py-1 pr-3 font-normal">Comment</th>
                      <th className="py-1 pr-3 font-normal">By</th>
                      <th className="py-1 font-normal" />
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((s) => (
                      <tr
                        key={s.id}
                        data-testid="silence"
                        data-state={s.state}
                        data-match={s.match ?? ""}
                        className="border-t border-zinc-800/70 align-top"
                      >
                        <td className="py-1 pr-3">
                          {s.match && <span className="font-mono text-zinc-100">{s.match}</span>}
                          {s.tags.length > 0 && (
                            <span className="ml-1 text-indigo-300">
                              {s.match ? "or tagged " : "tagged "}
                              {s.tags.join(", ")}
                            </span>
                          )}
                        </td>
                        <td className="py-1 pr-3 text-zinc-300">
                          {shortTime(s.startsAt)} →{" "}
                          {s.endedAt ? `${shortTime(s.endedAt)} (ended)` : shortTime(s.endsAt)}
                          {s.recurrence && (
                            <div className="text-xs text-zinc-400">
                              weekly:{" "}
                              {s.recurrence.weekly.map((w) => `${w.day} ${w.start} for ${w.minutes} min`).join("; ")} (
                              {s.recurrence.timeZone})
                            </div>
                          )}
                          {s.state === "active" && (
                            <div className="text-xs text-zinc-400">
                              {s.mutingNow ? "muting now" : "between windows"}
                            </div>
                          )}
                        </td>
                        <td className="py-1 pr-3 text-zinc-400">{s.comment}</td>
                        <td className="py-1 pr-3 text-zinc-400">{s.createdBy ?? "—"}</td>
                        <td className="py-1 text-right">
                          {s.state !== "expired" && canOperate(me) && (
                            <button
                              type="button"
                              data-testid="end-silence"
                              onClick={() => void end(s.id)}
                              className="rounded border border-zinc-700 px-1.5 text-xs text-zinc-300 hover:bg-zinc-800"
                            >
                              End now
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          );
        })}
      </main>
    </div>
  );
}

/** datetime-local (browser time) → ISO, or null. */
const toIso = (value: string): string | null => {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

function SilenceForm({ onCreated }: { onCreated(): void }) {
  const [match, setMatch] = useState("");
  const [tags, setTags] = useState("");
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [comment, setComment] = useState("");
  const [windows, setWindows] = useState<WindowDraft[]>([]);
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await sendJson("POST", "/api/silences", {
        match: match.trim() === "" ? null : match.trim(),
        tags: tags
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t !== ""),
        startsAt: toIso(startsAt) ?? new Date().toISOString(),
        endsAt: toIso(endsAt),
        recurrence:
          windows.length === 0
            ? null
            : {
                weekly: windows.map((w) => ({ day: w.day, start: w.start, minutes: Number(w.minutes) })),
                timeZone,
              },
        comment,
      });
      setErrors({});
      setMatch("");
      setTags("");
      setComment("");
      setWindows([]);
      onCreated();
    } catch (err) {
      const fields = (err as Error & { fields?: Record<string, string> }).fields;
      setErrors(fields ?? { body: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  }
  const input = "h-7 rounded border border-zinc-700 bg-zinc-900 px-2 text-[13px] text-zinc-100 [color-scheme:dark]";
  const fieldError = (...names: string[]) => {
    const msg = Object.entries(errors).find(([k]) => names.some((n) => k === n || k.startsWith(`${n}.`)))?.[1];
    return msg ? (
      <span data-testid={`error-${names[0]}`} className="text-xs text-red-400">
        {msg}
      </span>
    ) : null;
  };
  return (
    <form
      data-testid="silence-form"
      onSubmit={(e) => void submit(e)}
      className="flex flex-col gap-2 rounded-md border border-zinc-800 bg-zinc-900/40 p-3"
    >
      <h2 className="text-sm font-medium text-zinc-200">New silence</h2>
      <div className="flex flex-wrap gap-3">
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          Devices (glob)
          <input
            name="match"
            placeholder="e.g. pump-* or an exact id"
            value={match}
            onChange={(e) => setMatch(e.target.value)}
            className={`${input} w-56 font-mono`}
          />
          {fieldError("match")}
        </label>
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          or tagged (comma-separated)
          <input
            name="tags"
            value={tags}
            onChange={(e) => setTags(e.target.value)}
            className={`${input} w-48 font-mono`}
          />
          {fieldError("tags")}
        </label>
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          From (your time; empty: now)
          <input
            name="startsAt"
            type="datetime-local"
            value={startsAt}
            onChange={(e) => setStartsAt(e.target.value)}
            className={input}
          />
          {fieldError("startsAt")}
        </label>
        <label className="flex flex-col gap-1 text-xs text-zinc-400">
          Until (your time)
          <input
            name="endsAt"
            type="datetime-local"
            value={endsAt}
            onChange={(e) => setEndsAt(e.target.value)}
            className={input}
          />
          {fieldError("endsAt")}
        </label>
      </div>
      <div className="flex flex-col gap-1 text-xs text-zinc-400">
        <span>
          Weekly windows (optional; local wall time in{" "}
          <input
            aria-label="time zone"
            value={timeZone}
            onChange={(e) => setTimeZone(e.target.value)}
            className={`${input} w-40`}
          />
          , correct across daylight-saving changes)
        </span>
        {windows.map((w, i) => (
          <div key={i} className="flex items-center gap-2">
            <select
              aria-label="day"
              value={w.day}
              onChange={(e) =>
                setWindows(windows.map((x, j) => (j === i ? { ...x, day: e.target.value as WindowDraft["day"] } : x)))
              }
              className={input}
            >
              {DAYS.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
            <input
              aria-label="start"
              type="time"
              value={w.start}
              onChange={(e) => setWindows(windows.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)))}
              className={input}
            />
            <input
              aria-label="minutes"
              type="number"
              min={1}
              value={w.minutes}
              onChange={(e) => setWindows(windows.map((x, j) => (j === i ? { ...x, minutes: e.target.value } : x)))}
              className={`${input} w-20`}
            />
            minutes
            <button
              type="button"
              onClick={() => setWindows(windows.filter((_, j) => j !== i))}
              className="text-zinc-500 hover:text-zinc-300"
            >
              remove
            </button>
          </div>
        ))}
        <button
          type="button"
          onClick={() => setWindows([...windows, { day: "sat", start: "22:00", minutes: "240" }])}
          className="self-start text-sky-400 hover:underline"
        >
          + weekly window
        </button>
        {fieldError("recurrence")}
      </div>
      <label className="flex flex-col gap-1 text-xs text-zinc-400">
        Comment (why)
        <input
          name="comment"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          className={`${input} w-full`}
        />
        {fieldError("comment")}
      </label>
      {fieldError("body")}
      <button
        type="submit"
        disabled={busy}
        className="self-start rounded bg-sky-700 px-3 py-1 text-xs text-white hover:bg-sky-600 disabled:opacity-50"
      >
        Create silence
      </button>
    </form>
  );
}
