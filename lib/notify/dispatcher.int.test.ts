/**
 * The outbox and its dispatcher on a real Postgres, against a real HTTP
 * receiver on 127.0.0.1:
 * - a failing destination is retried with backoff, then dead-lettered;
 *   "retry now" sends it; every attempt carries the same Idempotency-Key;
 * - 1,000 alerts fired within a second reach a 1/s channel as digests, at
 *   most one message a second, with every event in exactly one message;
 * - two processes on one database send each notification once;
 * - a process killed (SIGKILL) mid-send: the next one sends the notification
 *   again with the same key, and it is recorded sent once (20 times in a row).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAllowList } from "../alerts/egress";
import { createDb, type Db } from "../store/db";
import {
  createChannel,
  insertNotifications,
  listDeliveries,
  retryNotification,
  type ChannelRecord,
  type OutboxEntry,
} from "../store/notifications";
import { createTestDatabase, type TestDatabase } from "../store/testing";
import { eventually } from "../testing/clients";
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from "../testing/webhooks";
import { Dispatcher } from "./dispatcher";
import { testEvent, type NotificationEvent } from "./events";

interface Received {
  at: number;
  key: string;
  body: { id: string; event: string; events?: NotificationEvent[] };
}

const received_ = (r: ReceivedRequest): Received => ({
  at: r.at,
  key: String(r.headers["idempotency-key"]),
  body: JSON.parse(r.raw),
});

let database: TestDatabase;
let db: Db;
let receiver: HttpReceiver;
let base: string;
/** Per path: how the receiver answers a request (default: 200; null: never). */
const behaviour = new Map<string, (r: Received) => { status: number } | null>();
/** Per path: what it received, parsed. */
const received = (path: string): Received[] => receiver.at(path).map(received_);
const dispatchers: Dispatcher[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ connectionString: database.url });
  receiver = await startHttpReceiver((r) => {
    const answer = behaviour.get(r.path);
    return answer ? answer(received_(r)) : { status: 200 };
  });
  base = receiver.base;
}, 60_000);

// Each test's in-process dispatchers stop with it, so they do not take the next test's work.
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop(100);
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await receiver?.close();
  await db?.$disconnect();
  await database?.drop();
});

function dispatcher(opts: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}): Dispatcher {
  const d = new Dispatcher({
    db: () => db,
    log: () => undefined,
    allow: parseAllowList("127.0.0.1"),
    pollMs: 50,
    ...opts,
  });
  dispatchers.push(d);
  d.start();
  return d;
}

async function webhookChannel(path: string, ratePerMinute: number | null = null): Promise<ChannelRecord> {
  return createChannel(db, {
    name: path,
    type: "webhook",
    config: { url: `${base}${path}` },
    enabled: true,
    defaultForSystem: false,
    ratePerMinute,
  });
}

async function enqueue(channel: ChannelRecord, count: number): Promise<NotificationEvent[]> {
  const events = Array.from({ length: count }, () => ({ ...testEvent(null), event: "fired" as const }));
  await enqueueEvents(channel, events);
  return events;
}

async function enqueueEvents(channel: ChannelRecord, events: NotificationEvent[]): Promise<void> {
  const entries: OutboxEntry[] = events.map((e) => ({
    eventId: e.id,
    event: e.event,
    alertId: null,
    incidentId: null,
    payload: e,
    channelIds: [channel.id],
    system: false,
  }));
  await db.$transaction(async (tx) => insertNotifications(tx, entries));
}

const states = async (channelId: number) =>
  (
    await db.$queryRaw<{ state: string; n: bigint }[]>`
      SELECT "state", count(*) AS n FROM "notifications" WHERE "channel_id" = ${channelId} GROUP BY "state"`
  ).reduce<Record<string, number>>((o, r) => ({ ...o, [r.state]: Number(r.n) }), {});

const eventIdsIn = (list: readonly Received[]) =>
  list.flatMap((r) => (r.body.event === "digest" ? (r.body.events ?? []).map((e) => e.id) : [r.body.id]));

describe("retries and the dead letter", () => {
  it("retries a failing destination with backoff, dead-letters it after NOTIFY_MAX_ATTEMPTS, and sends it on retry now", async () => {
    const channel = await webhookChannel("/flaky");
    let status = 503;
    behaviour.set("/flaky", () => ({ status }));
    const d = dispatcher({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 400 });
    const [event] = await enqueue(channel, 1);
    d.wake();
    await eventually(async () => (await states(channel.id)).dead === 1, 10_000, "dead-lettered");
    const attempts = received("/flaky");
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.key))).toEqual(new Set([event.id]));
    // Backoff: each wait is at least half of base × 2^(n−1).
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(50);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(100);
    const log = await listDeliveries(db, { channelId: channel.id });
    expect(log.map((l) => [l.attempt, l.ok, l.statusCode, l.final, l.dead])).toEqual([
      [3, false, 503, true, true],
      [2, false, 503, false, true],
      [1, false, 503, false, true],
    ]);
    expect(await listDeliveries(db, { channelId: channel.id, outcome: "dead" })).toHaveLength(3);

    status = 200;
    expect(await retryNotification(db, log[0].notificationId!)).toBe(true);
    expect(await retryNotification(db, log[0].notificationId!)).toBe(false); // pending now, not dead
    d.wake();
    await eventually(async () => (await states(channel.id)).sent === 1, 5_000, "sent after retry now");
    expect(received("/flaky").map((a) => a.key)).toEqual([event.id, event.id, event.id, event.id]);
    const after = await listDeliveries(db, { channelId: channel.id });
    expect(after[0]).toMatchObject({ ok: true, statusCode: 200, final: true, dead: false });
  });

  it("dead-letters at once what cannot succeed (HTTP 400, a refused destination)", async () => {
    const bad = await webhookChannel("/bad");
    behaviour.set("/bad", () => ({ status: 400 }));
    const refused = await createChannel(db, {
      name: "metadata",
      type: "webhook",
      config: { url: "http://169.254.169.254/hook" },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: null,
    });
    const d = dispatcher({ maxAttempts: 8, baseDelayMs: 100 });
    await enqueue(bad, 1);
    await enqueue(refused, 1);
    d.wake();
    await eventually(
      async () => (await states(bad.id)).dead === 1 && (await states(refused.id)).dead === 1,
      5_000,
      "both dead",
    );
    expect(received("/bad")).toHaveLength(1);
    const [log] = await listDeliveries(db, { channelId: refused.id });
    expect(log).toMatchObject({ ok: false, final: true, attempt: 1 });
    expect(log.error).toMatch(/^refused: webhook URL .*169\.254\.169\.254.*link-local/);
  });
});

describe("rate limits", () => {
  it("1,000 alerts fired within a second reach a 1/s channel as digests, within its limit, with nothing lost", async () => {
    const channel = await webhookChannel("/limited", 60);
    const d = dispatcher();
    const started = Date.now();
    const sent: NotificationEvent[] = [];
    for (let i = 0; i < 10; i++) {
      sent.push(...(await enqueue(channel, 100)));
      d.wake();
      await new Promise((r) => setTimeout(r, 100));
    }
    const firedIn = Date.now() - started;
    await eventually(async () => (await states(channel.id)).sent === 1_000, 20_000, "all 1,000 sent");
    const messages = received("/limited");
    const ids = eventIdsIn(messages);
    const gaps = messages.slice(1).map((m, i) => m.at - messages[i].at);
    console.log(
      `[rate] 1,000 alerts fired in ${firedIn} ms reached the 1/s channel as ${messages.length} messages ` +
        `(${messages.filter((m) => m.body.event === "digest").length} digests), gaps ${gaps.join(", ")} ms`,
    );
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids)).toEqual(new Set(sent.map((e) => e.id)));
    expect(messages.filter((m) => m.body.event === "digest").length).toBeGreaterThanOrEqual(1);
    // At most one message a second (the limit is kept in the database, so it holds across processes). Gaps are
    // measured on arrival, so a slow request followed by a quick one may arrive a little under a second apart.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(850);
    expect(messages.length).toBeLessThanOrEqual(Math.ceil((messages.at(-1)!.at - messages[0].at) / 1000) + 1);
    const log = await listDeliveries(db, { channelId: channel.id, limit: 1000 });
    expect(log.filter((l) => l.digest && l.ok).length).toBeGreaterThan(900);
  }, 30_000);
});

function startProcess(env: Record<string, string> = {}): Promise<ChildProcess> {
  // Node itself runs the dispatcher (tsx as a loader, not a wrapper process), so a signal reaches the process
  // that holds the claim: SIGKILL really kills it.
  const child = spawn(process.execPath, ["--import", "tsx", "lib/testing/dispatcher-process.ts"], {
    env: { ...process.env, DATABASE_URL: database.url, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`dispatcher process exited (${code})`)));
  });
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once("exit", () => r()));

describe("several processes", () => {
  it("two processes sharing one database send each of 300 notifications once", async () => {
    const channel = await webhookChannel("/shared");
    const [a, b] = await Promise.all([startProcess(), startProcess()]);
    const events = await enqueue(channel, 300);
    await eventually(async () => (await states(channel.id)).sent === 300, 20_000, "all 300 sent");
    const keys = received("/shared").map((r) => r.key);
    expect(keys).toHaveLength(300);
    expect(new Set(keys)).toEqual(new Set(events.map((e) => e.id)));
    const bySender = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "alert_deliveries" WHERE "channel_id" = ${channel.id}`;
    expect(Number(bySender[0].n)).toBe(300);
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    await Promise.all([exited(a), exited(b)]);
  }, 40_000);

  it("a process killed mid-send: the next one sends it again with the same key, recorded sent once (20 times)", async () => {
    const channel = await webhookChannel("/crash");
    // The first request for a round's event is held until its sender is killed; every other one is answered.
    let onHeld: ((r: Received) => void) | null = null;
    const hold = new Set<string>();
    const answered = new Map<string, number>();
    behaviour.set("/crash", (r) => {
      if (hold.delete(r.key)) {
        onHeld?.(r);
        return null; // never answered: the sender dies first
      }
      answered.set(r.key, (answered.get(r.key) ?? 0) + 1);
      return { status: 200 };
    });
    let current = await startProcess({ NOTIFY_LEASE_SECONDS: "1.5", NOTIFY_TIMEOUT_SECONDS: "1" });
    for (let round = 1; round <= 20; round++) {
      const held = new Promise<Received>((r) => (onHeld = r));
      const event = { ...testEvent(null), event: "fired" as const };
      hold.add(event.id);
      await enqueueEvents(channel, [event]);
      const first = await held;
      expect(first.key).toBe(event.id);
      current.kill("SIGKILL");
      await exited(current);
      // Committed while no process runs (an alert stored just before the crash): the next one sends it.
      const [whileDown] = await enqueue(channel, 1);
      current = await startProcess({ NOTIFY_LEASE_SECONDS: "1.5", NOTIFY_TIMEOUT_SECONDS: "1" });
      await eventually(
        async () =>
          (
            await db.$queryRaw<{ state: string }[]>`
              SELECT "state" FROM "notifications" WHERE "event_id" = ${event.id}`
          )[0]?.state === "sent",
        10_000,
        `round ${round}: sent after the restart`,
      );
      const requests = received("/crash").filter((r) => r.key === event.id);
      expect(requests.map((r) => r.key)).toEqual([event.id, event.id]);
      expect(answered.get(event.id)).toBe(1);
      await eventually(() => answered.get(whileDown.id) === 1, 5_000, `round ${round}: the one written while down`);
      const ok = await db.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM "alert_deliveries" d JOIN "notifications" n ON n."id" = d."notification_id"
         WHERE n."event_id" = ${event.id} AND d."ok"`;
      expect(Number(ok[0].n)).toBe(1);
    }
    // 40 events, each answered exactly once: the 20 held ones after their sender died, the 20 written while down.
    expect(answered.size).toBe(40);
    for (const [key, n] of answered) expect(n, key).toBe(1);
    console.log(`[crash] 20 of 20 rounds: killed mid-send, sent once after the restart with the same key`);
    current.kill("SIGTERM");
    await exited(current);
  }, 180_000);
});
