"use client";

import { useId, useState, type FormEvent, type ReactNode } from "react";
import type { SilenceDto } from "@/lib/alerts/dto";
import { Brand, TopNav } from "@/components/nav/TopNav";
import { canOperate, useMe } from "@/components/nav/me";
import { apiFields, formMessage, placeErrors, type PlacedErrors } from "@/components/form/field-errors";
import { apiJson, errorText, useApi } from "@/components/api/client";
import { shortTime } from "./format";
import { FormActions } from "@/components/form/FormActions";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const STATES = ["active", "upcoming", "expired"] as const;

interface WindowDraft {
  day: (typeof DAYS)[number];
  start: string;
  minutes: string;
}

type SilenceState = (typeof STATES)[number];

/** Silences and maintenance windows: listed by state, created, ended early. */
export function SilencesPage() {
  const me = useMe();
  const active = useApi<{ silences: SilenceDto[] }>("/api/silences?state=active");
  const upcoming = useApi<{ silences: SilenceDto[] }>("/api/silences?state=upcoming");
  const expired = useApi<{ silences: SilenceDto[] }>("/api/silences?state=expired");
  const silences: Record<SilenceState, SilenceDto[]> | null =
    active.data && upcoming.data && expired.data
      ? { active: active.data.silences, upcoming: upcoming.data.silences, expired: expired.data.silences }
      : null;
  // A failed "end" is said until the list is read again; else the list's own failure.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? active.error ?? upcoming.error ?? expired.error;
  const reload = () => {
    setActionError(null);
    active.refetch();
    upcoming.refetch();
    expired.refetch();
  };
  async function end(id: string) {
    try {
      await apiJson("DELETE", `/api/silences/${id}`);
      reload();
    } catch (e) {
      setActionError(errorText(e));
    }
  }
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-zinc-800 bg-zinc-900/80 px-4 py-2">
        <Brand section="silences" />
        <TopNav />
      </header>
      <main className="flex min-w-0 flex-1 flex-col gap-4 p-4">
        <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
          <h1 className="text-base font-semibold text-zinc-100">Silences and maintenance windows</h1>
          <p className="text-xs text-zinc-500">
            While a silence mutes a device its alerts are recorded but not sent; when it ends, what still fires is sent
            once. Times in UTC.
          </p>
        </div>
        {error && (
          <p role="alert" className="text-xs text-red-400">
            {error}
          </p>
        )}
        {canOperate(me) && <SilenceForm onCreated={reload} />}
        {STATES.map((state) => {
          const list = silences?.[state] ?? [];
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
                <div className="max-w-full overflow-x-auto">
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
                                {s.recurrence.weekly.map((w) => `${w.day} ${w.start} for ${w.minutes} min`).join("; ")}{" "}
                                ({s.recurrence.timeZone})
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
                </div>
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

const TOP_SLOTS = ["match", "tags", "startsAt", "endsAt", "comment", "recurrence", "recurrence.timeZone"] as const;
const rowSlot = (i: number) => `recurrence.weekly.${i}`;

const control = "h-7 rounded border bg-zinc-900 px-2 text-[13px] text-zinc-100 [color-scheme:dark]";
const border = (error: string | undefined) => (error ? "border-red-500" : "border-zinc-700");

/** A labelled input with its error beside it, tied together for assistive technology (as in the rule editor). */
function Field({
  label,
  error,
  testId,
  children,
}: {
  label: ReactNode;
  error: string | undefined;
  testId: string;
  children: (ids: { id: string; "aria-invalid"?: true; "aria-describedby"?: string }) => ReactNode;
}) {
  const id = useId();
  return (
    <label htmlFor={id} className="flex flex-col gap-1 text-xs text-zinc-400">
      {label}
      {children({
        id,
        ...(error ? { "aria-invalid": true as const, "aria-describedby": `${id}-error` } : {}),
      })}
      {error && (
        <span id={`${id}-error`} data-testid={`error-${testId}`} className="text-xs text-red-400">
          {error}
        </span>
      )}
    </label>
  );
}

const NO_ERRORS: PlacedErrors = { at: {}, rest: [] };

function SilenceForm({ onCreated }: { onCreated(): void }) {
  const [match, setMatch] = useState("");
  const [tags, setTags] = useState("");
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [comment, setComment] = useState("");
  const [windows, setWindows] = useState<WindowDraft[]>([]);
  const [timeZone, setTimeZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [errors, setErrors] = useState<PlacedErrors>(NO_ERRORS);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await apiJson("POST", "/api/silences", {
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
                timeZone: timeZone.trim(),
              },
        comment,
      });
      setErrors(NO_ERRORS);
      setMessage(null);
      setMatch("");
      setTags("");
      setStartsAt("");
      setEndsAt("");
      setComment("");
      setWindows([]);
      onCreated();
    } catch (err) {
      const { message: text, fields } = apiFields(err);
      const placed = placeErrors(fields, [...TOP_SLOTS, ...windows.map((_, i) => rowSlot(i))]);
      setErrors(placed);
      setMessage(formMessage(placed, text));
    } finally {
      setBusy(false);
    }
  }
  const at = errors.at;
  const setWindow = (i: number, patch: Partial<WindowDraft>) =>
    setWindows(windows.map((x, j) => (j === i ? { ...x, ...patch } : x)));
  return (
    <form
      data-testid="silence-form"
      onSubmit={(e) => void submit(e)}
      noValidate
      className="flex flex-col gap-2 rounded-md border border-zinc-800 bg-zinc-900/40 p-3"
    >
      <h2 className="text-sm font-medium text-zinc-200">New silence</h2>
      <div className="flex flex-wrap gap-3">
        <Field label="Devices (glob)" error={at.match} testId="match">
          {(ids) => (
            <input
              {...ids}
              name="match"
              placeholder="e.g. pump-* or an exact id"
              value={match}
              onChange={(e) => setMatch(e.target.value)}
              className={`${control} ${border(at.match)} w-56 font-mono`}
            />
          )}
        </Field>
        <Field label="or tagged (comma-separated)" error={at.tags} testId="tags">
          {(ids) => (
            <input
              {...ids}
              name="tags"
              placeholder="e.g. site:north, pumps"
              value={tags}
              onChange={(e) => setTags(e.target.value)}
              className={`${control} ${border(at.tags)} w-48 font-mono`}
            />
          )}
        </Field>
        <Field label="From (your time; empty: now)" error={at.startsAt} testId="startsAt">
          {(ids) => (
            <input
              {...ids}
              name="startsAt"
              type="datetime-local"
              value={startsAt}
              onChange={(e) => setStartsAt(e.target.value)}
              className={`${control} ${border(at.startsAt)}`}
            />
          )}
        </Field>
        <Field label="Until (your time; empty only for weekly windows)" error={at.endsAt} testId="endsAt">
          {(ids) => (
            <input
              {...ids}
              name="endsAt"
              type="datetime-local"
              value={endsAt}
              onChange={(e) => setEndsAt(e.target.value)}
              className={`${control} ${border(at.endsAt)}`}
            />
          )}
        </Field>
      </div>
      <fieldset className="flex flex-col gap-1 text-xs text-zinc-400">
        <legend className="mb-1">
          Weekly windows (optional; wall-clock time in the zone below, correct across daylight-saving changes)
        </legend>
        {windows.length > 0 && (
          <Field label="Time zone (IANA)" error={at["recurrence.timeZone"]} testId="timeZone">
            {(ids) => (
              <input
                {...ids}
                name="timeZone"
                value={timeZone}
                onChange={(e) => setTimeZone(e.target.value)}
                className={`${control} ${border(at["recurrence.timeZone"])} w-48`}
              />
            )}
          </Field>
        )}
        {windows.map((w, i) => {
          const rowError = at[rowSlot(i)];
          return (
            <div key={i} data-testid="window-row" className="flex flex-wrap items-center gap-2">
              <select
                aria-label={`window ${i + 1} day`}
                aria-invalid={rowError ? true : undefined}
                value={w.day}
                onChange={(e) => setWindow(i, { day: e.target.value as WindowDraft["day"] })}
                className={`${control} ${border(rowError)}`}
              >
                {DAYS.map((d) => (
                  <option key={d} value={d}>
                    {d}
                  </option>
                ))}
              </select>
              <input
                aria-label={`window ${i + 1} start`}
                aria-invalid={rowError ? true : undefined}
                type="time"
                value={w.start}
                onChange={(e) => setWindow(i, { start: e.target.value })}
                className={`${control} ${border(rowError)}`}
              />
              <input
                aria-label={`window ${i + 1} minutes`}
                aria-invalid={rowError ? true : undefined}
                type="number"
                min={1}
                value={w.minutes}
                onChange={(e) => setWindow(i, { minutes: e.target.value })}
                className={`${control} ${border(rowError)} w-20`}
              />
              minutes
              <button
                type="button"
                onClick={() => {
                  setWindows(windows.filter((_, j) => j !== i));
                  // The rows after it move up: their errors no longer point at them.
                  setErrors(NO_ERRORS);
                  setMessage(null);
                }}
                className="text-zinc-500 hover:text-zinc-300"
              >
                remove
              </button>
              {rowError && (
                <span data-testid={`error-window-${i}`} className="text-red-400">
                  {rowError}
                </span>
              )}
            </div>
          );
        })}
        <button
          type="button"
          data-testid="add-window"
          onClick={() => setWindows([...windows, { day: "sat", start: "22:00", minutes: "240" }])}
          className="self-start text-sky-400 hover:underline"
        >
          + weekly window
        </button>
        {at.recurrence && (
          <span data-testid="error-recurrence" className="text-red-400">
            {at.recurrence}
          </span>
        )}
      </fieldset>
      <Field label="Comment (why)" error={at.comment} testId="comment">
        {(ids) => (
          <input
            {...ids}
            name="comment"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            className={`${control} ${border(at.comment)} w-full`}
          />
        )}
      </Field>
      <FormActions message={message} busy={busy} submitLabel="Create silence" />
    </form>
  );
}
