/**
 * Test harness: reads server-sent events off a stream (the hub's, or a
 * response body) until `n` named events arrived or the stream ended.
 */
export interface SseEvent {
  event: string;
  data: unknown;
}

export async function readSseEvents(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<SseEvent[]> {
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buf = "";
  while (events.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data !== undefined) events.push({ event, data: JSON.parse(data) });
    }
  }
  return events;
}
