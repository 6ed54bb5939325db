import { describe, expect, it } from "vitest";
import type { DisconnectRecord } from "../store/disconnects";
import {
  csvRecord,
  csvRecords,
  DISCONNECT_CSV_HEADER,
  disconnectCsvRecord,
  disconnectsFilename,
  fileTime,
  isoUtc,
  secondsCell,
  timeCell,
} from "./csv";
import { parseCsv } from "../testing/csv";

/** One cell as it stands in a record. */
const cell = (text: string | number | null) => csvRecord([text]).slice(0, -2);

describe("RFC 4180 fields", () => {
  it("leaves plain text alone and quotes only what must be quoted", () => {
    expect(cell("sensor-1")).toBe("sensor-1");
    expect(cell("a,b")).toBe('"a,b"');
    expect(cell('say "hi"')).toBe('"say ""hi"""');
    expect(cell("line\nbreak")).toBe('"line\nbreak"');
    expect(cell("cr\rhere")).toBe('"cr\rhere"');
    expect(cell("")).toBe("");
    expect(cell("ünïcødé 😀")).toBe("ünïcødé 😀");
    // separators of other locales are quoted too
    expect(cell("a;b")).toBe('"a;b"');
    expect(cell("a\tb")).toBe('"a\tb"');
  });

  it("ends every record with CRLF", () => {
    expect(csvRecord(["a", "", "c"])).toBe("a,,c\r\n");
    expect(csvRecords([["a"], ["b", null]])).toBe("a\r\nb,\r\n");
    expect(DISCONNECT_CSV_HEADER).toBe(
      "device_id,disconnected_at,reason,keepalive_s,last_activity_at,silence_s,connected_at,session_s,reconnected_at,offline_s,inferred,device_name\r\n",
    );
  });
});

describe("formula neutralization (OWASP CSV injection)", () => {
  it("prefixes a single quote to every text a spreadsheet would run", () => {
    for (const s of ["=1+1", "+41 79", "-2", "@cmd", "\tTAB", "\r\nx", "\nx", "＝1+1", "＋1", "－1", "＠x"])
      expect(parseCsv(csvRecord([s, "z"])), JSON.stringify(s)).toEqual([[`'${s}`, "z"]]);
  });

  it("leaves text that only looks close alone", () => {
    for (const s of ["sensor", " =1", "1=1", "'=1", "a-b", "ＡＢ"]) expect(cell(s), s).toBe(s);
  });

  it("turns a hostile HYPERLINK id into inert text that reads back exactly", () => {
    const hostile = '=HYPERLINK("http://x","y")';
    expect(cell(hostile)).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(parseCsv(csvRecord([hostile, "z"]))).toEqual([[`'${hostile}`, "z"]]);
  });

  it("leaves text that is not a formula unprefixed but still RFC-quoted", () => {
    expect(cell('dev,"1"')).toBe('"dev,""1"""');
    expect(cell(null)).toBe("");
  });
});

describe("numbers and times keepwatch writes", () => {
  it("writes numbers plainly and unknowns as empty cells", () => {
    expect(cell(30)).toBe("30");
    expect(cell(0)).toBe("0");
    expect(cell(null)).toBe("");
    expect(cell(Number.NaN)).toBe("");
  });

  it("writes durations as seconds to the millisecond", () => {
    expect(cell(secondsCell(15_123))).toBe("15.123");
    expect(cell(secondsCell(60_000))).toBe("60");
    expect(cell(secondsCell(1))).toBe("0.001");
    expect(cell(secondsCell(100))).toBe("0.1");
    expect(cell(secondsCell(0))).toBe("0");
    expect(cell(secondsCell(null))).toBe("");
  });

  it("writes times as ISO-8601 UTC with milliseconds", () => {
    expect(cell(timeCell(Date.UTC(2026, 10, 1, 8, 30, 5, 7)))).toBe("2026-11-01T08:30:05.007Z");
    expect(cell(timeCell(null))).toBe("");
  });
});

describe("disconnect records", () => {
  const base: DisconnectRecord = {
    deviceId: "sensor-1",
    connectedAt: Date.parse("2026-11-01T08:00:00.000Z"),
    disconnectedAt: Date.parse("2026-11-01T08:10:15.250Z"),
    reason: "keepalive_timeout",
    keepaliveSeconds: 10,
    lastActivityAt: Date.parse("2026-11-01T08:10:00.000Z"),
    inferred: false,
    reconnectedAt: Date.parse("2026-11-01T08:12:15.250Z"),
    silenceMs: 15_250,
    sessionMs: 615_250,
    offlineMs: 120_000,
  };

  it("writes every column in header order", () => {
    expect(disconnectCsvRecord(base)).toBe(
      "sensor-1,2026-11-01T08:10:15.250Z,keepalive_timeout,10,2026-11-01T08:10:00.000Z,15.25,2026-11-01T08:00:00.000Z,615.25,2026-11-01T08:12:15.250Z,120,false,\r\n",
    );
    // The operator's name last, neutralized like any text.
    expect(disconnectCsvRecord(base, () => "=Pump, north").endsWith(`,false,"'=Pump, north"\r\n`)).toBe(true);
  });

  it("leaves unknown values empty", () => {
    const rec = disconnectCsvRecord({
      ...base,
      keepaliveSeconds: null,
      lastActivityAt: null,
      silenceMs: null,
      reconnectedAt: null,
      offlineMs: null,
    });
    expect(parseCsv(rec)).toEqual([
      [
        "sensor-1",
        "2026-11-01T08:10:15.250Z",
        "keepalive_timeout",
        "",
        "",
        "",
        "2026-11-01T08:00:00.000Z",
        "615.25",
        "",
        "",
        "false",
        "",
      ],
    ]);
  });

  it("keeps twelve columns whatever the device id holds", () => {
    const ids = ['=HYPERLINK("http://x","y")', "a,b,c", 'q"uote', "multi\r\nline", "-minus", "😀"];
    const text = ids.map((deviceId) => disconnectCsvRecord({ ...base, deviceId })).join("");
    const rows = parseCsv(DISCONNECT_CSV_HEADER + text);
    expect(rows.every((r) => r.length === 12)).toBe(true);
    expect(rows.slice(1).map((r) => r[0])).toEqual([
      `'=HYPERLINK("http://x","y")`,
      "a,b,c",
      'q"uote',
      "multi\r\nline",
      "'-minus",
      "😀",
    ]);
  });
});

describe("file names", () => {
  it("carries the range, to the minute unless seconds matter", () => {
    expect(disconnectsFilename(Date.parse("2026-11-01T00:00:00Z"), Date.parse("2026-11-22T00:00:00Z"))).toBe(
      "keepwatch-disconnects_2026-11-01T00-00Z_2026-11-22T00-00Z.csv",
    );
    expect(fileTime(Date.parse("2026-11-01T13:45:07Z"))).toBe("2026-11-01T13-45-07Z");
    expect(fileTime(Date.parse("2026-11-01T13:45:00.250Z"))).toBe("2026-11-01T13-45-00.250Z");
    expect(disconnectsFilename(null, Date.parse("2026-11-22T06:30:00Z"))).toBe(
      "keepwatch-disconnects_start_2026-11-22T06-30Z.csv",
    );
  });
});

describe("isoUtc", () => {
  it("writes exactly what Date#toISOString writes", () => {
    const samples = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      Date.parse("2026-11-01T23:59:59.999Z"),
      Date.parse("2028-02-29T12:00:00.000Z"),
      Date.parse("9999-12-31T23:59:59.999Z"),
    ];
    // A walk of irregular steps through several days and years, crossing midnights both ways.
    let t = Date.parse("2024-12-31T23:00:00Z");
    for (let i = 0; i < 20_000; i++) {
      t += ((i * 7_919_993) % 9_000_001) - 3_000_000;
      samples.push(t);
    }
    for (const ms of samples) expect(isoUtc(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it("falls back to Date for what the fast path does not cover", () => {
    expect(isoUtc(-1)).toBe("1969-12-31T23:59:59.999Z");
    expect(isoUtc(1.5)).toBe(new Date(1.5).toISOString());
  });
});
