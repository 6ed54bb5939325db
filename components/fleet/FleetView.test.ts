/**
 * FleetView rendered to HTML from a prepared store (no browser): what an
 * operator would read, the hooks end-to-end tests rely on, and how hostile
 * ids come out.
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { renderToString } from "react-dom/server";
import { jsx } from "react/jsx-runtime";
import { describe, expect, it } from "vitest";
import type { SnapshotMessage } from "@/lib/api/dto";
import { newQueryClient } from "@/components/api/client";
import { device, health, HOSTILE_IDS, isoAt, randomFleet, snapshot, T0 } from "./__fixtures__/devices";
import { FleetStoreProvider } from "./FleetStoreProvider";
import { FleetView } from "./FleetView";
import { createFleetStore, type FleetStoreOptions } from "./store";

function render(options: FleetStoreOptions = {}): string {
  const store = createFleetStore({ now: () => T0, ...options });
  // As in the app: every page sits under the query cache's provider (the layout's).
  const view = jsx(FleetStoreProvider, { store, children: jsx(FleetView, {}) });
  return renderToString(jsx(QueryClientProvider, { client: newQueryClient(), children: view }));
}

const count = (html: string, needle: string) => html.split(needle).length - 1;
/** Text content of the element carrying this data-testid (first match, tags stripped). */
function textOf(html: string, testId: string): string | null {
  const at = html.indexOf(`data-testid="${testId}"`);
  if (at < 0) return null;
  const start = html.lastIndexOf("<", at);
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] ?? "div";
  let depth = 0;
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, "g");
  re.lastIndex = start;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) {
      const inner = html.slice(start, m.index + m[0].length);
      return inner
        .replace(/<!--.*?-->/g, "")
        .replace(/<[^>]+>/g, "")
        .replace(/&amp;/g, "&")
        .replace(/&#x27;/g, "'")
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">");
    }
  }
  return null;
}

describe("FleetView", () => {
  it("says it is connecting before the first snapshot", () => {
    const html = render();
    expect(html).toContain("Connecting to the live stream");
    expect(textOf(html, "stream-state")).toBe("connecting…");
    expect(html).toContain('data-state="connecting"');
    expect(count(html, 'data-testid="device-row"')).toBe(0);
  });

  it("waits for the broker when the fleet is empty", () => {
    const html = render({ snapshot: snapshot([]) });
    expect(html).toContain("Waiting for the broker to report clients…");
  });

  it("shows counts, health and rows with their testids", () => {
    const fleet = [
      device("dev-1"),
      device("dev-2", {
        status: "offline",
        statusSince: isoAt(T0 - 180_000),
        lastDisconnectReason: "keepalive_timeout",
        lastDisconnectAt: isoAt(T0 - 180_000),
        disconnectCount: 4,
      }),
      device("dev-3", { status: "late", keepaliveSeconds: 0 }),
      device("dev-4", { status: "unknown", keepaliveSeconds: null, lastSeenAt: null }),
    ];
    // The server's order (default view: problems first) is the order shown.
    const html = render({ snapshot: snapshot([fleet[1], fleet[2], fleet[3], fleet[0]]) });
    expect(textOf(html, "count-online")).toContain("1");
    expect(html).toMatch(/data-testid="count-offline" data-count="1"/);
    expect(html).toMatch(/data-testid="count-total" data-count="4"/);
    expect(textOf(html, "broker-health")).toBe("broker connected · mosquitto 2.0.11 · mqtt://127.0.0.1:1883");
    expect(textOf(html, "db-health")).toBe("database ok");
    expect(html).not.toContain('data-testid="monitor-gap"');
    expect(count(html, 'data-testid="device-row"')).toBe(4);
    expect(count(html, 'data-testid="device-status"')).toBe(4);
    const order = [...html.matchAll(/data-device-id="([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(["dev-2", "dev-3", "dev-4", "dev-1"]);
    expect(textOf(html, "device-status")).toBe("offline · 3m ago");
    expect(html).toContain("keepalive timeout");
    expect(html).toContain("0 (off)");
    expect(html).toContain("never");
    expect(html).toContain('href="/devices/dev-2"');
    expect(html).toMatch(/role="columnheader" aria-sort="ascending"[^>]*><button[^>]*>Status/);
  });

  it("warns of a monitoring gap, a failing database and invisible pings", () => {
    const h = health({
      broker: { connected: false, since: isoAt(T0 - 60_000), lastError: "ECONNREFUSED" },
      db: { ok: false, pendingWrites: 1234 },
      monitor: { gapSince: isoAt(T0 - 60_000), pingsVisible: false },
    });
    const html = render({ snapshot: snapshot([device("a", { status: "unknown" })], T0, h) });
    expect(textOf(html, "monitor-gap")).toContain("devices shown as unknown, not offline");
    expect(textOf(html, "monitor-gap")).toContain("1m ago");
    expect(textOf(html, "db-health")).toBe("database unavailable — 1,234 writes pending");
    expect(textOf(html, "broker-health")).toContain("disconnected · 1m ago");
    expect(textOf(html, "broker-health")).toContain("ECONNREFUSED");
    expect(textOf(html, "pings-visible")).toContain("silence verdicts need a ping-visible source");
  });

  it("renders hostile ids as inert, isolated text", () => {
    const fleet = HOSTILE_IDS.map((id) => device(id));
    const html = render({ snapshot: snapshot(fleet) });
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(count(html, 'data-testid="device-row"')).toBe(HOSTILE_IDS.length);
    // The 100 KB id is laid out as 200 characters and its tooltip is capped; the link and data attribute keep it whole.
    const xs = [...html.matchAll(/x{150,}/g)].map((m) => m[0].length).sort((a, b) => a - b);
    expect(xs).toEqual([200, 1000, 100_000, 100_000]);
    expect(count(html, 'dir="auto"')).toBeGreaterThanOrEqual(HOSTILE_IDS.length);
    expect(html.replaceAll("<!-- -->", "")).toContain(">⚠ U+202E</span>");
    expect(html).toContain('href="/devices/lone%EF%BF%BDsurrogate"');
  });

  it("keeps a few dozen rows in the DOM for 10,000 devices", () => {
    const msg: SnapshotMessage = snapshot(randomFleet(10_000));
    const html = render({ snapshot: msg });
    const rows = count(html, 'data-testid="device-row"');
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(100);
    expect(html).toContain('aria-rowcount="10001"');
    expect(textOf(html, "row-count")).toBe("10,000 devices");
  });

  it("is as tall as a view of a million devices while holding only its window", () => {
    const msg = snapshot(randomFleet(200));
    msg.window.total = 1_000_000;
    msg.counts = { online: 1_000_000, late: 0, offline: 0, unknown: 0, total: 1_000_000 };
    const html = render({ snapshot: msg });
    expect(html).toContain('aria-rowcount="1000001"');
    expect(textOf(html, "row-count")).toBe("1,000,000 devices");
    expect(count(html, 'data-testid="device-row"')).toBeLessThan(100);
  });

  it("says when nothing matches the filter", () => {
    const msg = { ...snapshot([device("a")]), devices: [], window: { offset: 0, total: 0, ids: [] } };
    const html = render({ snapshot: msg, view: { search: "zzz", status: "offline" } });
    expect(html).toContain("No devices match the filter.");
    expect(html).toContain("Nothing with status offline and id containing “zzz”.");
    expect(textOf(html, "row-count")).toBe("0 of 1 devices");
  });
});
