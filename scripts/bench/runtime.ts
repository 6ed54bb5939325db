/**
 * A real Runtime (lib/runtime.ts) for the memory and detection scenarios:
 * its own embedded broker (so PINGREQs count as visible, silence verdicts are
 * possible, and the runtime's own tick loop runs) and a Postgres database.
 * Events are handed to it exactly where its ingest sources hand them over.
 */
import { loadConfig } from "../../lib/config";
import type { ActivityEvent } from "../../lib/ingest/events";
import { Runtime } from "../../lib/runtime";
import { freePort } from "../../lib/testing/mosquitto";

export async function startBenchRuntime(databaseUrl: string): Promise<Runtime> {
  const runtime = new Runtime(
    loadConfig({
      DATABASE_URL: databaseUrl,
      MQTT_PORT: String(await freePort()),
      PORT: String(await freePort()),
      DEVICE_TOPICS: "devices/{id}/#",
    }),
  );
  await runtime.start();
  if (!runtime.pingsVisible) throw new Error("the bench runtime should see PINGREQs (embedded broker)");
  return runtime;
}

/** What the runtime's ingest sources do with a batch of events (lib/runtime.ts, `onEvents`). */
export function feed(runtime: Runtime, events: ActivityEvent[]): void {
  runtime.fleet.applyBatch(events);
  runtime.activity?.recordEvents(events);
}

/** Everything buffered for the database written: the writer's device and session rows, the activity points. */
export async function flushAll(runtime: Runtime): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await runtime.writer?.flush();
    await runtime.activity?.flush();
    const pending = (runtime.writer?.health().pendingWrites ?? 0) + (runtime.activity?.health().pendingPoints ?? 0);
    if (pending === 0) return;
  }
  throw new Error(
    `writes still pending: ${JSON.stringify({ writer: runtime.writer?.health(), activity: runtime.activity?.health() })}`,
  );
}
