/**
 * Secrets as the API shows them: "••••" and the last 4 characters; a URL
 * with its scheme and host but its path and query masked (a webhook URL's
 * path is usually its secret).
 */
export const MASK = "••••";

export function maskSecret(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return value ?? null;
  return value.length <= 8 ? MASK : `${MASK}${value.slice(-4)}`;
}

export function maskUrl(value: string | null | undefined): string | null {
  if (!value) return value ?? null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return maskSecret(value);
  }
  const rest = `${url.pathname}${url.search}`.replace(/^\/+/, "");
  const port = url.port ? `:${url.port}` : "";
  return `${url.protocol}//${url.hostname}${port}/${rest === "" ? "" : maskSecret(rest)}`;
}

/** Whether a value is a masked one sent back unchanged (keep the stored secret). */
export const isMasked = (value: unknown): boolean => typeof value === "string" && value.includes(MASK);
