"use client";

import { useState, type FormEvent } from "react";
import type { ChannelDto, ChannelTypeDto } from "@/lib/notify/dto";
import type { ChannelTypeName } from "@/lib/notify/channels/types";
import { apiJson } from "@/components/api/client";
import { apiFields, formMessage, placeErrors } from "@/components/form/field-errors";
import { emptyDraft, toBody, toDraft, TYPE_FIELDS, type ChannelDraft } from "./fields";
import { FormActions } from "@/components/form/FormActions";

const INPUT =
  "rounded border bg-zinc-950 px-2 py-1 text-[13px] text-zinc-100 outline-none focus-visible:ring-2 focus-visible:ring-sky-500";

/** Add or edit a channel: the type's own fields, the API's per-field errors next to them. */
export function ChannelForm({
  channel,
  types,
  onSaved,
  onCancel,
}: {
  channel: ChannelDto | null;
  types: ChannelTypeDto[];
  onSaved(): void;
  onCancel(): void;
}) {
  const [draft, setDraft] = useState<ChannelDraft>(() => (channel ? toDraft(channel) : emptyDraft()));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fields = TYPE_FIELDS[draft.type];
  const slots = [
    "name",
    "type",
    "ratePerMinute",
    "enabled",
    "defaultForSystem",
    ...fields.map((f) => `config.${f.key}`),
  ];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Required fields first, in the browser; the server checks everything again.
    const missing: Record<string, string> = {};
    if (draft.name.trim() === "") missing.name = "name is required";
    for (const f of fields)
      if (!f.optional && f.kind === "text" && String(draft.config[f.key] ?? "").trim() === "")
        missing[`config.${f.key}`] = `${f.label} is required`;
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      setMessage("Not saved: fix the fields marked in red.");
      return;
    }
    setBusy(true);
    try {
      await apiJson(channel ? "PUT" : "POST", channel ? `/api/channels/${channel.id}` : "/api/channels", toBody(draft));
      onSaved();
    } catch (err) {
      const { message: m, fields: f } = apiFields(err);
      const placed = placeErrors(f, slots);
      setErrors(placed.at);
      setMessage(formMessage(placed, m));
    } finally {
      setBusy(false);
    }
  };

  const setConfig = (key: string, value: string | boolean) =>
    setDraft((d) => ({ ...d, config: { ...d.config, [key]: value } }));
  const idOf = (key: string) => `channel-${channel?.id ?? "new"}-${key.replace(/\./g, "-")}`;
  const errorOf = (slot: string) =>
    errors[slot] ? (
      <span id={`${idOf(slot)}-error`} data-testid={`error-${slot}`} className="text-xs text-red-400">
        {errors[slot]}
      </span>
    ) : null;

  return (
    <form
      data-testid="channel-form"
      onSubmit={submit}
      noValidate
      className="flex flex-col gap-3 rounded border border-sky-900 bg-zinc-900 p-3"
    >
      <div className="grid grid-cols-1 gap-x-4 gap-y-2 sm:grid-cols-2 lg:grid-cols-3">
        <label htmlFor={idOf("name")} className="flex flex-col gap-0.5">
          <span className="text-xs text-zinc-400">Name</span>
          <input
            id={idOf("name")}
            data-testid="field-name"
            value={draft.name}
            aria-invalid={errors.name ? true : undefined}
            onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))}
            className={`${INPUT} ${errors.name ? "border-red-500" : "border-zinc-700"}`}
          />
          {errorOf("name")}
        </label>
        <label htmlFor={idOf("type")} className="flex flex-col gap-0.5">
          <span className="text-xs text-zinc-400">Type</span>
          <select
            id={idOf("type")}
            data-testid="field-type"
            value={draft.type}
            disabled={channel !== null}
            onChange={(e) => {
              const type = e.target.value as ChannelTypeName;
              setDraft((d) => ({ ...emptyDraft(type), name: d.name, enabled: d.enabled }));
              setErrors({});
            }}
            className={`${INPUT} border-zinc-700 disabled:opacity-60`}
          >
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {t.label}
              </option>
            ))}
          </select>
          {errorOf("type")}
        </label>
        <label htmlFor={idOf("ratePerMinute")} className="flex flex-col gap-0.5">
          <span className="text-xs text-zinc-400">Rate limit (messages/min)</span>
          <input
            id={idOf("ratePerMinute")}
            data-testid="field-ratePerMinute"
            inputMode="numeric"
            value={draft.ratePerMinute}
            placeholder={(() => {
              const d = types.find((t) => t.type === draft.type)?.defaultRatePerMinute;
              return d ? `type default ${d}` : "none";
            })()}
            onChange={(e) => setDraft((d) => ({ ...d, ratePerMinute: e.target.value }))}
            className={`${INPUT} ${errors.ratePerMinute ? "border-red-500" : "border-zinc-700"}`}
          />
          {errorOf("ratePerMinute")}
        </label>
        {fields.map((f) => {
          const slot = `config.${f.key}`;
          const id = idOf(slot);
          const err = errors[slot];
          if (f.kind === "checkbox")
            return (
              <label key={f.key} className="flex items-center gap-2 self-end text-xs text-zinc-300">
                <input
                  type="checkbox"
                  data-testid={`field-${slot}`}
                  checked={draft.config[f.key] === true}
                  onChange={(e) => setConfig(f.key, e.target.checked)}
                />
                {f.label}
                {errorOf(slot)}
              </label>
            );
          const common = {
            id,
            "data-testid": `field-${slot}`,
            value: String(draft.config[f.key] ?? ""),
            "aria-invalid": err ? true : undefined,
            "aria-describedby": err ? `${id}-error` : undefined,
            autoComplete: "off",
            spellCheck: false,
            className: `${INPUT} ${err ? "border-red-500" : "border-zinc-700"}`,
          };
          return (
            <label
              key={f.key}
              htmlFor={id}
              className={`flex flex-col gap-0.5 ${f.kind === "headers" || f.key === "url" ? "sm:col-span-2" : ""}`}
            >
              <span className="text-xs text-zinc-400">
                {f.label}
                {f.optional && <span className="text-zinc-600"> (optional)</span>}
              </span>
              {f.kind === "headers" ? (
                <textarea rows={2} {...common} onChange={(e) => setConfig(f.key, e.target.value)} />
              ) : (
                <input
                  {...common}
                  inputMode={f.kind === "number" ? "numeric" : undefined}
                  onChange={(e) => setConfig(f.key, e.target.value)}
                />
              )}
              {err
                ? errorOf(slot)
                : (f.hint || (f.secret && channel)) && (
                    <span className="text-[11px] text-zinc-600">
                      {[f.hint, f.secret && channel ? "stored secret: leave as shown to keep it" : null]
                        .filter(Boolean)
                        .join(" · ")}
                    </span>
                  )}
            </label>
          );
        })}
        <label className="flex items-center gap-2 self-end text-xs text-zinc-300">
          <input
            type="checkbox"
            data-testid="field-enabled"
            checked={draft.enabled}
            onChange={(e) => setDraft((d) => ({ ...d, enabled: e.target.checked }))}
          />
          Enabled
        </label>
        <label className="flex items-center gap-2 self-end text-xs text-zinc-300">
          <input
            type="checkbox"
            data-testid="field-defaultForSystem"
            checked={draft.defaultForSystem}
            onChange={(e) => setDraft((d) => ({ ...d, defaultForSystem: e.target.checked }))}
          />
          Also system alerts and incidents
        </label>
      </div>
      <FormActions
        message={message}
        busy={busy}
        submitLabel={channel ? "Save" : "Create"}
        submitTestId="save-channel"
        onCancel={onCancel}
      />
    </form>
  );
}
