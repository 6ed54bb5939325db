/**
 * One keepwatch monitor in a process of its own, as `instrumentation.ts`
 * starts it in the server (the same Runtime, the same SIGINT/SIGTERM
 * handling), for the tests that run several on one database and kill,
 * pause or stop them:
 *
 *   DATABASE_URL=… MQTT_URL=… KEEPWATCH_INSTANCE_ID=a CONTROL_PORT=… node --import tsx lib/testing/keepwatch-process.ts
 *
 * A small HTTP port stands in for the web layer the tests need:
 *   GET  /health          the runtime's health (as GET /api/health)
 *   GET  /device?id=…     a device's state in this instance's fleet
 *   GET  /devices         every device's status in this instance's fleet
 *   GET  /rules           the alert rules this instance applies
 *   POST /rules           a new rule (JSON AlertRuleInput), saved as the API route saves it
 *   GET  /alerts          this instance's alert feed (as the stream's `alerts` event)
 *   POST /ack?id=…&by=…   acknowledges an alert, as POST /api/alerts/{id}/ack does
 */
import { createServer } from "node:http";
import { createAlertRule, setAlertAck } from "../store/alerts";
import { startRuntime } from "../runtime";
import { stopOnSignals } from "../signals";
import type { AlertRuleInput } from "../alerts/rules";

const runtime = await startRuntime(process.env);
stopOnSignals(runtime);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const json = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  void (async () => {
    if (url.pathname === "/health") return json(200, runtime.health());
    if (url.pathname === "/device") {
      const d = runtime.fleet.get(url.searchParams.get("id") ?? "");
      return d ? json(200, runtime.deviceDto(d)) : json(404, null);
    }
    if (url.pathname === "/devices")
      return json(200, Object.fromEntries(Array.from(runtime.fleet.all(), (d) => [d.id, d.status])));
    if (url.pathname === "/rules" && req.method === "GET") return json(200, runtime.alerts?.getRules() ?? []);
    if (url.pathname === "/rules" && req.method === "POST") {
      let body = "";
      for await (const chunk of req) body += chunk;
      const rule = await createAlertRule(runtime.db!.prisma, JSON.parse(body) as AlertRuleInput);
      await runtime.changed("rules");
      return json(201, rule);
    }
    if (url.pathname === "/alerts") return json(200, runtime.alerts?.feed() ?? null);
    if (url.pathname === "/ack" && req.method === "POST") {
      const alert = await setAlertAck(runtime.db!.prisma, url.searchParams.get("id") ?? "", {
        by: url.searchParams.get("by") ?? "test",
        comment: null,
        at: Date.now(),
      });
      if (!alert) return json(404, null);
      runtime.alerts?.noteAck(alert);
      await runtime.changed("alerts");
      return json(200, alert);
    }
    json(404, null);
  })().catch((e) => json(500, { error: String(e) }));
});
server.listen(Number(process.env.CONTROL_PORT), "127.0.0.1", () => console.log("control ready"));
