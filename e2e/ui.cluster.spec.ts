/**
 * Two keepwatch servers (`next start`) on one Postgres and one Mosquitto:
 * the fleet page of either is live, shows which role its instance has, and
 * follows a hand-over without a reload.
 */
import { test, expect } from "@playwright/test";
import mqtt from "mqtt";
import { startApp, type TestApp } from "../lib/testing/app";
import { startMosquitto, type TestBroker } from "../lib/testing/mosquitto";
import { createTestDatabase, type TestDatabase } from "../lib/store/testing";
import type { HealthDto } from "../lib/api/dto";

let broker: TestBroker;
let database: TestDatabase;
const apps = new Map<string, TestApp>();

test.beforeAll(async () => {
  broker = await startMosquitto();
  database = await createTestDatabase();
  for (const id of ["east", "west"]) {
    const app = await startApp({
      MQTT_URL: broker.url,
      DATABASE_URL: database.url,
      KEEPWATCH_INSTANCE_ID: id,
      KEEPWATCH_FAILOVER_SECONDS: "3",
      // This test is about the cluster; access control has its own tests on the defaults.
      KEEPWATCH_ANONYMOUS_ROLE: "admin",
    });
    await app.start();
    apps.set(id, app);
  }
});

test.afterAll(async () => {
  for (const app of apps.values()) await app.stop("SIGKILL");
  await broker?.stop();
  await database?.drop();
});

async function cluster(app: TestApp): Promise<HealthDto["cluster"]> {
  return ((await (await fetch(`${app.baseURL}/api/health`)).json()) as HealthDto).cluster;
}

test("a standby's fleet page is live, shows its role, and becomes the leader's on a hand-over", async ({ page }) => {
  const [leaderId, standbyId] =
    (await cluster(apps.get("east")!)).role === "leader" ? ["east", "west"] : ["west", "east"];
  const standby = apps.get(standbyId)!;
  expect((await cluster(apps.get(leaderId)!)).role).toBe("leader");

  await page.goto(standby.baseURL);
  const role = page.getByTestId("cluster-role");
  await expect(role).toHaveAttribute("data-role", "standby");
  await expect(role).toContainText(`leader ${leaderId}`);
  await expect(role).toContainText("1 peer");

  // A device seen by the standby itself, live.
  const device = await mqtt.connectAsync(broker.url, { clientId: "cluster-dev-1", keepalive: 30, reconnectPeriod: 0 });
  const row = page.getByTestId("device-row").filter({ hasText: "cluster-dev-1" });
  await expect(row).toContainText("online");

  // The leader stops (SIGTERM): the page's own instance leads, no reload.
  await apps.get(leaderId)!.stop("SIGTERM");
  await expect(role).toHaveAttribute("data-role", "leader", { timeout: 5_000 });
  await expect(role).not.toContainText("leader east · ");

  // Still live: the device leaves and the page says so.
  await device.endAsync();
  await expect(row).toContainText("offline");
  const c = await cluster(standby);
  expect(c).toMatchObject({ role: "leader", leaderId: standbyId });
  expect(c.epoch).toBeGreaterThanOrEqual(2);
});
