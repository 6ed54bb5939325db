/**
 * The embedded broker's own limits, on the real Aedes listener with a real
 * MQTT.js client: at most MQTT_MAX_RETAINED topics hold a retained message.
 */
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type EmbeddedBroker } from "./embedded";

let broker: EmbeddedBroker;
const refused: string[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0, host: "127.0.0.1", maxRetained: 2, onRefused: (c) => refused.push(c) });
});

afterAll(async () => {
  await broker?.close();
});

describe("retained messages", () => {
  it("holds at most maxRetained topics: one more is refused, a cleared topic frees its place", async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const a = await mqtt.connectAsync(url, { clientId: "ret-a", reconnectPeriod: 0 });
    await a.publishAsync("t/1", "x", { retain: true, qos: 1 });
    await a.publishAsync("t/2", "x", { retain: true, qos: 1 });
    await a.publishAsync("t/1", "y", { retain: true, qos: 1 }); // the same topic again: no new place
    const closed = new Promise<void>((resolve) => a.once("close", () => resolve()));
    a.publish("t/3", "x", { retain: true, qos: 1 });
    await closed;
    expect(refused).toEqual(["retained_full"]);
    a.end(true);

    const b = await mqtt.connectAsync(url, { clientId: "ret-b", reconnectPeriod: 0 });
    await b.publishAsync("t/2", "", { retain: true, qos: 1 }); // clears t/2
    await b.publishAsync("t/3", "x", { retain: true, qos: 1 });
    expect(b.connected).toBe(true);
    expect(refused).toEqual(["retained_full"]);
    await b.endAsync();
  });
});
