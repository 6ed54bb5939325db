import { describe, expect, it } from "vitest";
import { device, snapshot } from "./__fixtures__/devices";
import { parseStreamMessage } from "./messages";

const valid = () => snapshot([device("a"), device("<b>")]);

describe("parseStreamMessage", () => {
  it("accepts a message that follows the contract", () => {
    const msg = valid();
    const parsed = parseStreamMessage(JSON.stringify(msg));
    expect(parsed).toEqual({ ok: true, message: msg });
  });

  it("rejects what is not the contract", () => {
    const cases: Array<[string, string]> = [
      ["{", "not JSON"],
      ["[]", "not an object"],
      [JSON.stringify({ ...valid(), serverTime: "yesterday" }), "serverTime"],
      [JSON.stringify({ ...valid(), devices: undefined }), "devices missing"],
      [JSON.stringify({ ...valid(), devices: [device("a"), { ...device("b"), status: "asleep" }] }), "device #1"],
      [JSON.stringify({ ...valid(), devices: [{ ...device("a"), id: 42 }] }), "device #0"],
      [JSON.stringify({ ...valid(), counts: { online: 1 } }), "counts"],
      [JSON.stringify({ ...valid(), health: { ok: true } }), "health"],
    ];
    for (const [data, error] of cases) {
      const parsed = parseStreamMessage(data);
      expect(parsed.ok, data.slice(0, 60)).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain(error);
    }
  });
});
