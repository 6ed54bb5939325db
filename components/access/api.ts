/** The access pages' calls: JSON in and out, an API error becomes an Error with the API's message. */
export async function sendJson<T>(method: string, url: string, body?: unknown): Promise<T> {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 204) return undefined as T;
  const json = await r.json().catch(() => null);
  if (!r.ok) throw new Error(json?.error?.message ?? `${r.status} ${r.statusText}`);
  return json as T;
}
