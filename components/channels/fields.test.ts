import { describe, expect, it } from "vitest";
import type { ChannelDto } from "@/lib/notify/dto";
import { emptyDraft, parseHeaders, targetOf, toBody, toDraft } from "./fields";

const saved: ChannelDto = {
  id: 3,
  name: "ops",
  type: "webhook",
  config: { url: "https://hooks.example/••••wxyz", secret: "••••cret", headers: { "X-Team": "••••" } },
  enabled: true,
  defaultForSystem: true,
  ratePerMinute: null,
  effectiveRatePerMinute: null,
  pending: 0,
  dead: 0,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-01T00:00:00.000Z",
};

describe("channel form fields", () => {
  it("sends a saved channel back with its masked secrets as shown (the server keeps them)", () => {
    expect(toBody(toDraft(saved))).toEqual({
      name: "ops",
      type: "webhook",
      config: saved.config,
      enabled: true,
      defaultForSystem: true,
      ratePerMinute: null,
    });
  });

  it("leaves out empty optional fields, keeps empty required ones for the server to name, and numbers as numbers", () => {
    const d = emptyDraft("email");
    d.name = " mail ";
    d.config.host = "smtp.example";
    d.ratePerMinute = "12";
    expect(toBody(d)).toEqual({
      name: "mail",
      type: "email",
      config: { host: "smtp.example", port: 587, secure: false, from: "", to: "" },
      enabled: true,
      defaultForSystem: false,
      ratePerMinute: 12,
    });
    d.ratePerMinute = "lots";
    expect(toBody(d).ratePerMinute).toBe("lots");
  });

  it("reads header lines", () => {
    expect(parseHeaders("X-A: 1\n\n  X-B :two: three \nbroken")).toEqual({
      "X-A": "1",
      "X-B": "two: three",
      broken: "",
    });
  });

  it("says where a channel sends from its masked config", () => {
    expect(targetOf(saved)).toBe("https://hooks.example/••••wxyz");
    expect(targetOf({ ...saved, type: "ntfy", config: { server: null, topic: "plant" } })).toBe("ntfy.sh · plant");
  });
});
