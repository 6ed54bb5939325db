"use client";

import { useId, useState, type FormEvent } from "react";
import type { DeviceDetail } from "@/lib/api/devices";
import { MAX_NAME, MAX_NOTES } from "@/lib/inventory/limits";
import { apiFields, formMessage, placeErrors } from "@/components/form/field-errors";
import { apiJson } from "@/components/api/client";
import { FormActions } from "@/components/form/FormActions";

const FIELDS = ["name", "tags", "notes"] as const;

/** The operator's name, tags and notes for a device: PATCH /api/devices/{id}, field errors shown in place. */
export function LabelsEditor({ device, onClose, onSaved }: { device: DeviceDetail; onClose(): void; onSaved(): void }) {
  const [name, setName] = useState(device.name ?? "");
  const [tags, setTags] = useState(device.tags.join(", "));
  const [notes, setNotes] = useState(device.notes ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const idBase = useId();
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await apiJson("PATCH", `/api/devices/${encodeURIComponent(device.id)}`, {
        name: name.trim() === "" ? null : name,
        tags: tags
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t !== ""),
        notes: notes.trim() === "" ? null : notes,
      });
      onSaved();
    } catch (err) {
      const { message: text, fields } = apiFields(err);
      const placed = placeErrors(fields, FIELDS);
      setErrors(placed.at);
      setMessage(formMessage(placed, text));
    } finally {
      setBusy(false);
    }
  }
  const input = (f: (typeof FIELDS)[number]) =>
    `rounded border bg-zinc-900 px-2 py-1 text-[13px] text-zinc-100 ${errors[f] ? "border-red-500" : "border-zinc-700"}`;
  /** The field's id and, when it has an error, what ties the error to it. */
  const ids = (f: (typeof FIELDS)[number]) => ({
    id: `${idBase}-${f}`,
    ...(errors[f] ? { "aria-invalid": true as const, "aria-describedby": `${idBase}-${f}-error` } : {}),
  });
  const error = (f: (typeof FIELDS)[number]) =>
    errors[f] ? (
      <span id={`${idBase}-${f}-error`} data-testid={`error-${f}`} className="text-xs text-red-400">
        {errors[f]}
      </span>
    ) : null;
  return (
    <form
      data-testid="labels-editor"
      noValidate
      onSubmit={(e) => void save(e)}
      className="flex flex-col gap-2 rounded-md border border-zinc-800 bg-zinc-900/60 p-3"
    >
      <label htmlFor={`${idBase}-name`} className="flex flex-col gap-1 text-xs text-zinc-400">
        Name
        <input
          {...ids("name")}
          name="name"
          maxLength={MAX_NAME + 50}
          value={name}
          onChange={(e) => setName(e.target.value)}
          className={input("name")}
        />
        {error("name")}
      </label>
      <label htmlFor={`${idBase}-tags`} className="flex flex-col gap-1 text-xs text-zinc-400">
        Tags (comma-separated: lower case letters, digits, _ . : -)
        <input
          {...ids("tags")}
          name="tags"
          value={tags}
          onChange={(e) => setTags(e.target.value)}
          className={`${input("tags")} font-mono`}
        />
        {error("tags")}
      </label>
      <label htmlFor={`${idBase}-notes`} className="flex flex-col gap-1 text-xs text-zinc-400">
        Notes
        <textarea
          {...ids("notes")}
          name="notes"
          rows={3}
          maxLength={MAX_NOTES + 50}
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
          className={input("notes")}
        />
        {error("notes")}
      </label>
      <FormActions message={message} busy={busy} submitLabel="Save" onCancel={onClose} />
    </form>
  );
}
