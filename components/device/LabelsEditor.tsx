"use client";

import { useState, type FormEvent } from "react";
import type { DeviceDetail } from "@/lib/api/devices";
import { MAX_NAME, MAX_NOTES } from "@/lib/inventory/limits";
import { sendJson } from "@/components/alerts/format";

/** The operator's name, tags and notes for a device: PATCH /api/devices/{id}, field errors shown in place. */
export function LabelsEditor({ device, onClose }: { device: DeviceDetail; onClose(): void }) {
  const [name, setName] = useState(device.name ?? "");
  const [tags, setTags] = useState(device.tags.join(", "));
  const [notes, setNotes] = useState(device.notes ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await sendJson("PATCH", `/api/devices/${encodeURIComponent(device.id)}`, {
        name: name.trim() === "" ? null : name,
        tags: tags
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t !== ""),
        notes: notes.trim() === "" ? null : notes,
      });
      onClose();
    } catch (err) {
      const fields = (err as Error & { fields?: Record<string, string> }).fields;
      setErrors(fields ?? { body: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  }
  const input = "rounded border border-zinc-700 bg-zinc-900 px-2 py-1 text-[13px] text-zinc-100";
  const error = (f: string) =>
    errors[f] ? (
      <span data-testid={`error-${f}`} className="text-xs text-red-400">
        {errors[f]}
      </span>
    ) : null;
  return (
    <form
      data-testid="labels-editor"
      onSubmit={(e) => void save(e)}
      className="flex flex-col gap-2 rounded-md border border-zinc-800 bg-zinc-900/60 p-3"
    >
      <label className="flex flex-col gap-1 text-xs text-zinc-400">
        Name
        <input
          name="name"
          maxLength={MAX_NAME + 50}
          value={name}
          onChange={(e) => setName(e.target.value)}
          className={input}
        />
        {error("name")}
      </label>
      <label className="flex flex-col gap-1 text-xs text-zinc-400">
        Tags (comma-separated: lower case letters, digits, _ . : -)
        <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} className={`${input} font-mono`} />
        {error("tags")}
      </label>
      <label className="flex flex-col gap-1 text-xs text-zinc-400">
        Notes
        <textarea
          name="notes"
          rows={3}
          maxLength={MAX_NOTES + 50}
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
          className={input}
        />
        {error("notes")}
      </label>
      {error("body")}
      <div className="flex gap-2">
        <button
          type="submit"
          disabled={busy}
          className="rounded bg-sky-700 px-3 py-1 text-xs text-white hover:bg-sky-600 disabled:opacity-50"
        >
          Save
        </button>
        <button
          type="button"
          onClick={onClose}
          className="rounded border border-zinc-700 px-3 py-1 text-xs text-zinc-300"
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
