"use client";

import { useMemo, useState, type FormEvent } from "react";
import Link from "next/link";
import type { AlertRuleDto } from "@/lib/alerts/dto";
import { ApiError, apiJson, errorText } from "@/components/api/client";
import type { ChannelDto } from "@/lib/notify/dto";
import { DEFAULT_RULE, ruleWarnings, type AlertRuleInput } from "@/lib/alerts/rules";
import { FormActions } from "@/components/form/FormActions";

type FieldName = Exclude<keyof AlertRuleInput, "webhookUrl" | "channelIds">;
type Draft = Record<Exclude<FieldName, "enabled" | "tags">, string> & {
  enabled: boolean;
  tags: string;
  channelIds: number[];
};

const NUMBER_FIELDS = [
  "offlineFactor",
  "offlineSeconds",
  "lateFactor",
  "flapDisconnects",
  "flapWindowSeconds",
  "nearMissRatio",
  "resolveAfterSeconds",
  "repeatIntervalSeconds",
] as const;

const FIELDS: Array<{ name: Exclude<FieldName, "enabled">; label: string; hint: string; wide?: boolean }> = [
  { name: "name", label: "Name", hint: "" },
  { name: "match", label: "Devices (glob)", hint: "e.g. pump-*, sensor-[0-9]?, an exact id" },
  { name: "tags", label: "and tagged (any of)", hint: "comma-separated; empty: by glob alone" },
  { name: "offlineFactor", label: "Offline after × keepalive", hint: "default 1.5 (the broker's deadline)" },
  { name: "offlineSeconds", label: "or offline after (s)", hint: "fixed; watches keepalive-0 devices" },
  { name: "lateFactor", label: "Late after × keepalive", hint: "empty: no late alerts" },
  { name: "flapDisconnects", label: "Flapping: disconnects", hint: "empty: off" },
  { name: "flapWindowSeconds", label: "… within (s)", hint: "" },
  { name: "nearMissRatio", label: "Near-miss above × keepalive", hint: "e.g. 0.9; empty: off" },
  { name: "resolveAfterSeconds", label: "Resolve after fine for (s)", hint: "hysteresis" },
  { name: "repeatIntervalSeconds", label: "Repeat notification every (s)", hint: "empty: off" },
];

const str = (v: number | string | null) => (v === null ? "" : String(v));

function toDraft(rule: AlertRuleInput): Draft {
  return {
    name: rule.name,
    match: rule.match,
    offlineFactor: str(rule.offlineFactor),
    offlineSeconds: str(rule.offlineSeconds),
    lateFactor: str(rule.lateFactor),
    flapDisconnects: str(rule.flapDisconnects),
    flapWindowSeconds: str(rule.flapWindowSeconds),
    nearMissRatio: str(rule.nearMissRatio),
    resolveAfterSeconds: str(rule.resolveAfterSeconds),
    repeatIntervalSeconds: str(rule.repeatIntervalSeconds),
    channelIds: [...(rule.channelIds ?? [])],
    tags: (rule.tags ?? []).join(", "),
    enabled: rule.enabled,
  };
}

/** The request body: empty number fields are null; what is not a number goes as typed, for the server to name. */
function toBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = { name: d.name, match: d.match, enabled: d.enabled };
  for (const f of NUMBER_FIELDS) {
    const v = d[f].trim();
    body[f] = v === "" ? null : Number.isNaN(Number(v)) ? v : Number(v);
  }
  body.channelIds = d.channelIds;
  body.tags = d.tags
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  // An empty offline factor with no fixed deadline means the default factor.
  if (body.offlineFactor === null && body.offlineSeconds === null) delete body.offlineFactor;
  return body;
}

/** The draft as a rule, for the live warnings (numbers only where they parse). */
function asRule(d: Draft): AlertRuleInput {
  const n = (v: string) => (v.trim() === "" || Number.isNaN(Number(v)) ? null : Number(v));
  return {
    ...DEFAULT_RULE,
    offlineFactor: n(d.offlineSeconds) === null ? (n(d.offlineFactor) ?? 1.5) : null,
    offlineSeconds: n(d.offlineSeconds),
    lateFactor: n(d.lateFactor),
    nearMissRatio: n(d.nearMissRatio),
  };
}

export function RuleForm({
  rule,
  pingsVisible,
  channels,
  onSaved,
  onCancel,
}: {
  rule: AlertRuleDto | null;
  pingsVisible: boolean;
  /** Every channel, to pick from (null while loading). */
  channels: ChannelDto[] | null;
  onSaved(): void;
  onCancel(): void;
}) {
  const [draft, setDraft] = useState<Draft>(() =>
    toDraft(rule ?? { ...DEFAULT_RULE, name: "", match: "", flapDisconnects: null, flapWindowSeconds: null }),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const warnings = useMemo(() => ruleWarnings(asRule(draft), pingsVisible), [draft, pingsVisible]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await apiJson(rule ? "PUT" : "POST", rule ? `/api/alert-rules/${rule.id}` : "/api/alert-rules", toBody(draft));
      onSaved();
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setMessage(errorText(err));
        return;
      }
      const fields = err.fields;
      setErrors({ ...fields });
      const known = new Set<string>([...FIELDS.map((f) => f.name), "enabled", "channelIds"]);
      const other = Object.entries(fields).filter(([k]) => !known.has(k));
      setMessage(
        other.length > 0
          ? other.map(([, v]) => v).join("; ")
          : Object.keys(fields).length === 0
            ? err.message
            : "Not saved: fix the fields marked in red.",
      );
    } finally {
      setBusy(false);
    }
  };

  const set = (name: keyof Draft, value: string | boolean) => {
    setDraft((d) => ({ ...d, [name]: value }));
  };
  const toggleChannel = (id: number, on: boolean) =>
    setDraft((d) => ({ ...d, channelIds: on ? [...d.channelIds, id] : d.channelIds.filter((c) => c !== id) }));

  return (
    <form
      data-testid="rule-form"
      onSubmit={submit}
      className="flex flex-col gap-3 rounded border border-sky-900 bg-zinc-900 p-3"
      noValidate
    >
      <div className="grid grid-cols-1 gap-x-4 gap-y-2 sm:grid-cols-2 lg:grid-cols-3">
        {FIELDS.map((f) => {
          const id = `rule-${rule?.id ?? "new"}-${f.name}`;
          const err = errors[f.name];
          const locked = f.name === "match" && rule?.isDefault;
          return (
            <label key={f.name} htmlFor={id} className={`flex flex-col gap-0.5 ${f.wide ? "sm:col-span-2" : ""}`}>
              <span className="text-xs text-zinc-400">{f.label}</span>
              <input
                id={id}
                name={f.name}
                data-testid={`field-${f.name}`}
                value={draft[f.name]}
                disabled={locked}
                aria-invalid={err ? true : undefined}
                aria-describedby={err ? `${id}-error` : undefined}
                onChange={(e) => set(f.name, e.target.value)}
                className={`rounded border bg-zinc-950 px-2 py-1 text-[13px] text-zinc-100 outline-none focus-visible:ring-2 focus-visible:ring-sky-500 disabled:opacity-60 ${err ? "border-red-500" : "border-zinc-700"}`}
              />
              {err ? (
                <span id={`${id}-error`} data-testid={`error-${f.name}`} className="text-xs text-red-400">
                  {err}
                </span>
              ) : (
                f.hint && <span className="text-[11px] text-zinc-600">{f.hint}</span>
              )}
            </label>
          );
        })}
        <label className="flex items-center gap-2 self-end text-xs text-zinc-300">
          <input
            type="checkbox"
            data-testid="field-enabled"
            checked={draft.enabled}
            onChange={(e) => set("enabled", e.target.checked)}
          />
          Enabled
          {errors.enabled && <span className="text-red-400">{errors.enabled}</span>}
        </label>
      </div>
      <fieldset className="flex flex-col gap-1" data-testid="field-channelIds">
        <legend className="text-xs text-zinc-400">Notify these channels</legend>
        {channels === null && <span className="text-xs text-zinc-500">Loading channels…</span>}
        {channels?.length === 0 && (
          <span className="text-xs text-zinc-500">
            No channel yet:{" "}
            <Link
              href="/settings/channels"
              className="text-sky-400 underline decoration-sky-400/50 underline-offset-2 hover:decoration-sky-400"
            >
              add one in Settings → Channels
            </Link>
            . Alerts are recorded and shown meanwhile.
          </span>
        )}
        <div className="flex flex-wrap gap-x-4 gap-y-1">
          {channels?.map((c) => (
            <label key={c.id} className="flex items-center gap-1.5 text-xs text-zinc-300">
              <input
                type="checkbox"
                data-testid={`channel-${c.id}`}
                checked={draft.channelIds.includes(c.id)}
                onChange={(e) => toggleChannel(c.id, e.target.checked)}
              />
              {c.name} <span className="text-zinc-500">({c.type})</span>
              {!c.enabled && <span className="text-zinc-500">disabled</span>}
            </label>
          ))}
        </div>
        {errors.channelIds && (
          <span data-testid="error-channelIds" className="text-xs text-red-400">
            {errors.channelIds}
          </span>
        )}
      </fieldset>
      {warnings.map((w) => (
        <p key={w} data-testid="form-warning" className="text-xs text-amber-300">
          ⚠ {w}
        </p>
      ))}
      <FormActions
        message={message}
        busy={busy}
        submitLabel={rule ? "Save" : "Create"}
        submitTestId="save-rule"
        onCancel={onCancel}
      />
    </form>
  );
}
