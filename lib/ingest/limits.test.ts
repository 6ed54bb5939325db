import { describe, expect, it } from "vitest";
import type { ActivityEvent } from "./events";
import { IngestScreen, refuseId } from "./limits";

const ping = (deviceId: string): ActivityEvent => ({ kind: "ping", deviceId, at: 0, source: "aedes" });

describe("device ids ingest refuses", () => {
  it("counts bytes in UTF-8, not characters", () => {
    expect(refuseId("a".repeat(256), 256)).toBeNull();
    expect(refuseId("a".repeat(257), 256)).toBe("id_too_long");
    expect(refuseId("é".repeat(128), 256)).toBeNull(); // 256 bytes
    expect(refuseId("é".repeat(129), 256)).toBe("id_too_long");
    expect(refuseId("😀".repeat(64), 256)).toBeNull(); // 4 bytes each
    expect(refuseId("😀".repeat(65), 256)).toBe("id_too_long");
  });

  it("refuses empty ids, control characters and lone surrogates; keeps hostile-looking but valid text", () => {
    expect(refuseId("", 256)).toBe("id_empty");
    expect(refuseId("dev\u0000x", 256)).toBe("id_control_characters");
    expect(refuseId("dev\nx", 256)).toBe("id_control_characters");
    expect(refuseId("dev\u0085x", 256)).toBe("id_control_characters");
    expect(refuseId("dev\uD800x", 256)).toBe("id_invalid_unicode");
    expect(refuseId("dev\uDC00", 256)).toBe("id_invalid_unicode");
    for (const ok of [`<img src=x onerror=alert(1)>`, `=HYPERLINK("x")`, "\u202Eevil", "😀 emoji", "a/b c"])
      expect(refuseId(ok, 256), ok).toBeNull();
  });

  it("screens a batch: the rest goes through, refusals are counted by cause", () => {
    const screen = new IngestScreen(16);
    const good = [ping("a"), ping("b")];
    expect(screen.admit(good)).toBe(good);
    const out = screen.admit([ping("a"), ping("x".repeat(17)), ping(""), ping("b"), ping("y".repeat(40))]);
    expect(out.map((e) => e.deviceId)).toEqual(["a", "b"]);
    expect(screen.rejected).toEqual({ id_too_long: 2, id_empty: 1 });
  });
});
