import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl } from "./config";

describe("loadConfig", () => {
  it("applies defaults and treats empty strings as unset", () => {
    const c = loadConfig({ MQTT_URL: "", PORT: "" });
    expect(c.MQTT_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.MQTT_PORT).toBe(1883);
    expect(c.DEVICE_TOPICS).toBe("devices/{id}/#");
    expect(c.MQTT_BROKER_KIND).toBe("auto");
  });

  it("names every bad variable", () => {
    let err: unknown;
    try {
      loadConfig({ MQTT_URL: "http://x", PORT: "99999", MQTT_BROKER_KIND: "hivemq" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain("MQTT_URL");
    expect(msg).toContain("PORT");
    expect(msg).toContain("MQTT_BROKER_KIND");
  });
});

describe("redactUrl", () => {
  it("hides passwords, keeps the rest", () => {
    expect(redactUrl("postgresql://kw:secret@db:5432/x")).toBe("postgresql://kw:***@db:5432/x");
    expect(redactUrl("mqtt://broker:1883")).toBe("mqtt://broker:1883");
  });
});
