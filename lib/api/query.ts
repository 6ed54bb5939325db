/**
 * Query-string parsing for the API: one zod schema per route, unknown
 * parameters rejected (a typo like `?stauts=` must not silently return
 * everything), repeated parameters rejected.
 */
import { z } from "../zod";
import { AppError } from "./errors";

export function parseQuery<T extends z.ZodRawShape>(url: string, shape: T): z.infer<z.ZodObject<T>> {
  const params = new URL(url).searchParams;
  const raw: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (!(key in shape)) throw new AppError("BAD_REQUEST", `unknown parameter "${key.slice(0, 64)}"`);
    if (values.length > 1) throw new AppError("BAD_REQUEST", `parameter "${key}" given more than once`);
    raw[key] = values[0];
  }
  return z.strictObject(shape).parse(raw);
}
