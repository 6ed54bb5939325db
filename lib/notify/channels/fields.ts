/** Config fields several channel types share, validated the same way. */
import { z } from "../../zod";

export const httpUrl = (field: string) =>
  z
    .string({ error: `${field} is required` })
    .trim()
    .min(1, `${field} is required`)
    .max(2048, `${field} must be at most 2048 characters`)
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:";
      } catch {
        return false;
      }
    }, `${field} must be an http:// or https:// URL`);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const RESERVED = new Set([
  "content-type",
  "content-length",
  "host",
  "idempotency-key",
  "x-keepwatch-signature",
  "x-keepwatch-timestamp",
]);

export const headerMap = z
  .record(z.string(), z.string().max(2000, "a header value must be at most 2000 characters"))
  .refine((h) => Object.keys(h).length <= 20, "headers: at most 20")
  .refine((h) => Object.keys(h).every((k) => HEADER_NAME.test(k)), "headers: a name is not a valid header name")
  .refine(
    (h) => Object.keys(h).every((k) => !RESERVED.has(k.toLowerCase())),
    "headers: a name is set by keepwatch itself",
  )
  .refine((h) => Object.values(h).every((v) => !/[\r\n\0]/.test(v)), "headers: values must be one line");
