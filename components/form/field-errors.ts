/**
 * Where a form shows the API's per-field errors (`error.fields`), pure: each
 * message goes next to the most specific field it names (a key such as
 * `recurrence.weekly.0.start` belongs to the slot `recurrence.weekly.0`),
 * and what no field of the form shows is said above its button.
 */
export interface PlacedErrors {
  /** Slot → its first message. */
  at: Record<string, string>;
  /** Messages for keys the form has no place for (unknown fields, the body as a whole). */
  rest: string[];
}

const covers = (slot: string, key: string) => key === slot || key.startsWith(`${slot}.`);

export function placeErrors(fields: Readonly<Record<string, string>>, slots: readonly string[]): PlacedErrors {
  const at: Record<string, string> = {};
  const rest: string[] = [];
  for (const [key, message] of Object.entries(fields)) {
    let best: string | null = null;
    for (const slot of slots) if (covers(slot, key) && (best === null || slot.length > best.length)) best = slot;
    if (best === null) rest.push(message);
    else if (!Object.hasOwn(at, best)) at[best] = message;
  }
  return { at, rest };
}

/** The line above a form's button after a failed save, as the rule editor words it. */
export function formMessage(placed: PlacedErrors, fallback: string): string {
  if (placed.rest.length > 0) return placed.rest.join("; ");
  return Object.keys(placed.at).length > 0 ? "Not saved: fix the fields marked in red." : fallback;
}

/** An error thrown by apiJson (an ApiError): its message and its per-field errors, if any. */
export function apiFields(err: unknown): { message: string; fields: Record<string, string> } {
  const fields = (err as { fields?: unknown } | null)?.fields;
  return {
    message: err instanceof Error ? err.message : String(err),
    fields: typeof fields === "object" && fields !== null ? (fields as Record<string, string>) : {},
  };
}
