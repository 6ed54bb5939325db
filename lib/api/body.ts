/**
 * Request bodies: JSON only, at most MAX_BODY_BYTES (64 KB). A larger body is
 * refused with 413 while it is read (a missing or false Content-Length does not
 * get past the limit); unreadable JSON with 400.
 */
import { AppError } from "./errors";

export const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readTextBody(request, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "the body is not valid JSON");
  }
}

/** The body as UTF-8 text, refused with 413 past `maxBytes` (while it is read). */
export async function readTextBody(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "");
  const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `request body over ${Math.floor(maxBytes / 1024)} KB`);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
