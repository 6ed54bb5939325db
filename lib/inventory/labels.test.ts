import { describe, expect, it } from "vitest";
import { MAX_NAME, MAX_NOTES, MAX_TAGS, TAG_PATTERN, parseImportCsv, parseLabelsPatch } from "./labels";

const opts = { maxRows: 1000, maxDeviceIdBytes: 256 };

describe("PATCH /api/devices/{id} labels", () => {
  it("trims the name, dedupes and sorts tags, and keeps only the fields given", () => {
    expect(parseLabelsPatch({ name: "  Pump 7  ", tags: ["site:north", "b", "a", "b"] })).toEqual({
      ok: true,
      patch: { name: "Pump 7", tags: ["a", "b", "site:north"] },
    });
    expect(parseLabelsPatch({ notes: "line one\nline two\twith a tab" })).toEqual({
      ok: true,
      patch: { notes: "line one\nline two\twith a tab" },
    });
  });

  it("clears a name or notes with an empty string or null, and tags with []", () => {
    expect(parseLabelsPatch({ name: "", notes: null, tags: [] })).toEqual({
      ok: true,
      patch: { name: null, notes: null, tags: [] },
    });
    expect(parseLabelsPatch({ name: null, notes: "   " })).toEqual({ ok: true, patch: { name: null, notes: null } });
  });

  it("wants an object with at least one of the three", () => {
    for (const body of [null, undefined, "name", 7, ["name"]])
      expect(parseLabelsPatch(body)).toEqual({
        ok: false,
        fields: { body: "expected a JSON object with name, tags or notes" },
      });
    expect(parseLabelsPatch({})).toEqual({
      ok: false,
      fields: { body: "expected at least one of name, tags, notes" },
    });
  });

  it("limits the name to MAX_NAME characters after trimming", () => {
    expect(parseLabelsPatch({ name: ` ${"n".repeat(MAX_NAME)} ` })).toEqual({
      ok: true,
      patch: { name: "n".repeat(MAX_NAME) },
    });
    expect(parseLabelsPatch({ name: "n".repeat(MAX_NAME + 1) })).toEqual({
      ok: false,
      fields: { name: "name must be at most 200 characters" },
    });
  });

  it("refuses control characters in a name", () => {
    for (const name of ["a\u0000b", "a\nb", "a\tb", "bell\u0007", "del\u007f"])
      expect(parseLabelsPatch({ name }), JSON.stringify(name)).toEqual({
        ok: false,
        fields: { name: "name must not contain control characters" },
      });
    expect(parseLabelsPatch({ name: "Pumpe Nord – Halle 3 😀" }).ok).toBe(true);
  });

  it("names the bad tag", () => {
    expect(parseLabelsPatch({ tags: ["ok", "Bad Tag"] })).toEqual({
      ok: false,
      fields: { tags: 'tags: "Bad Tag" must match [a-z0-9_.:-]{1,64}' },
    });
    expect(parseLabelsPatch({ tags: ["UPPER", "", "x".repeat(65)] })).toEqual({
      ok: false,
      fields: { tags: 'tags: "UPPER" must match [a-z0-9_.:-]{1,64} (and 2 more)' },
    });
    expect(TAG_PATTERN.test("x".repeat(64))).toBe(true);
  });

  it("allows MAX_TAGS different tags, counted after dropping duplicates", () => {
    const tags = Array.from({ length: MAX_TAGS }, (_, i) => `t${String(i).padStart(2, "0")}`);
    expect(parseLabelsPatch({ tags: [...tags, ...tags] })).toEqual({ ok: true, patch: { tags } });
    expect(parseLabelsPatch({ tags: [...tags, "one-more"] })).toEqual({
      ok: false,
      fields: { tags: "tags must be at most 32 different tags (got 33)" },
    });
  });

  it("wants tags as an array of strings", () => {
    for (const tags of ["a;b", null, 3, [1], [null]])
      expect(parseLabelsPatch({ tags }), JSON.stringify(tags)).toEqual({
        ok: false,
        fields: { tags: "tags must be an array of strings" },
      });
  });

  it("limits notes to MAX_NOTES characters and refuses control characters other than line breaks and tabs", () => {
    expect(parseLabelsPatch({ notes: "n".repeat(MAX_NOTES) }).ok).toBe(true);
    expect(parseLabelsPatch({ notes: "n".repeat(MAX_NOTES + 1) })).toEqual({
      ok: false,
      fields: { notes: "notes must be at most 4000 characters" },
    });
    expect(parseLabelsPatch({ notes: "nul\u0000" })).toEqual({
      ok: false,
      fields: { notes: "notes must not contain control characters (line breaks and tabs are fine)" },
    });
    expect(parseLabelsPatch({ notes: 42 })).toEqual({ ok: false, fields: { notes: "notes must be a string or null" } });
  });

  it("names every bad field at once, unknown ones included", () => {
    expect(parseLabelsPatch({ name: 5, tags: ["A"], notes: "x".repeat(5000), colour: "red" })).toEqual({
      ok: false,
      fields: {
        name: "name must be a string or null",
        tags: 'tags: "A" must match [a-z0-9_.:-]{1,64}',
        notes: "notes must be at most 4000 characters",
        colour: 'unknown field "colour"',
      },
    });
    expect(parseLabelsPatch({ colour: "red" })).toEqual({
      ok: false,
      fields: { body: "expected at least one of name, tags, notes", colour: 'unknown field "colour"' },
    });
  });

  it('reports a field named "__proto__" as a plain unknown field', () => {
    const result = parseLabelsPatch(JSON.parse('{"name":"x","__proto__":{"polluted":true}}'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.getPrototypeOf(result.fields)).toBe(Object.prototype);
    expect(Object.hasOwn(result.fields, "__proto__")).toBe(true);
    expect(result.fields["__proto__"]).toBe('unknown field "__proto__"');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("CSV import", () => {
  it("reads rows with every column", () => {
    const csv = "device_id,name,tags,notes\npump-1,Pump 1,site:north;pump,first one\npump-2,,,\n";
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [
        { line: 2, deviceId: "pump-1", name: "Pump 1", tags: ["pump", "site:north"], notes: "first one" },
        { line: 3, deviceId: "pump-2", name: null, tags: [], notes: null },
      ],
      errors: [],
      columns: ["name", "tags", "notes"],
    });
  });

  it("reads quoted fields with commas, quotes and line breaks, and keeps counting physical lines after them", () => {
    const csv = [
      "device_id,notes,name",
      'pump-1,"valve A, then valve B\nsecond line, with a comma\n""third"" line",Pump 1',
      "pump-2,plain,Pump 2",
      "",
      'pump-3,"one\n\ntwo",Pump 3',
      "pump-4,,Pump 4",
    ].join("\n");
    const { rows, errors } = parseImportCsv(csv, opts);
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.line, r.deviceId, r.notes])).toEqual([
      [2, "pump-1", 'valve A, then valve B\nsecond line, with a comma\n"third" line'],
      [5, "pump-2", "plain"],
      [7, "pump-3", "one\n\ntwo"],
      [10, "pump-4", null],
    ]);
  });

  it("counts a CRLF inside a quoted field as one line", () => {
    const csv = 'device_id,notes\r\npump-1,"a\r\nb\r\nc"\r\npump-2,x\r\npump-2,y\r\n';
    const { rows, errors } = parseImportCsv(csv, opts);
    expect(rows.map((r) => [r.line, r.notes])).toEqual([
      [2, "a\r\nb\r\nc"],
      [5, "x"],
    ]);
    expect(errors).toEqual([{ line: 6, message: 'device_id "pump-2" already appears on line 5' }]);
  });

  it("ignores a BOM and reads CRLF, CR and mixed line ends", () => {
    const expected = [
      { line: 2, deviceId: "a", name: "A", tags: [], notes: null },
      { line: 3, deviceId: "b", name: "B", tags: [], notes: null },
    ];
    for (const csv of [
      "\uFEFFdevice_id,name\r\na,A\r\nb,B\r\n",
      "\uFEFFdevice_id,name\na,A\nb,B",
      "device_id,name\ra,A\rb,B\r",
      "device_id,name\na,A\r\nb,B\n",
    ])
      expect(parseImportCsv(csv, opts), JSON.stringify(csv)).toEqual({
        rows: expected,
        errors: [],
        columns: ["name"],
      });
  });

  it("takes the header's columns in any order and case, trimmed, with only device_id required", () => {
    const csv = " Notes ,TAGS,Device_ID\nhello,b;a,pump-1\n";
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [{ line: 2, deviceId: "pump-1", name: null, tags: ["a", "b"], notes: "hello" }],
      errors: [],
      columns: ["tags", "notes"],
    });
    expect(parseImportCsv("device_id\npump-1\n", opts)).toEqual({
      rows: [{ line: 2, deviceId: "pump-1", name: null, tags: [], notes: null }],
      errors: [],
      columns: [],
    });
  });

  it("refuses unknown or repeated columns and a header without device_id", () => {
    expect(parseImportCsv("device_id,name,colour\npump-1,P,red\n", opts).errors).toEqual([
      { line: 1, message: 'unknown column "colour" (the columns are device_id, name, tags, notes)' },
    ]);
    expect(parseImportCsv("device_id,name,Name\npump-1,P,Q\n", opts).errors).toEqual([
      { line: 1, message: "column name appears twice" },
    ]);
    expect(parseImportCsv("device_id,colour\n", opts).errors).toEqual([
      { line: 1, message: 'unknown column "colour" (the columns are device_id, name, tags, notes)' },
      { line: 1, message: "no rows" },
    ]);
    expect(parseImportCsv("name,tags\nP,a\n", opts)).toEqual({
      rows: [],
      errors: [{ line: 1, message: "the header must name a device_id column" }],
      columns: ["name", "tags"],
    });
  });

  it("splits tags on ';', trims them, drops empty pieces and duplicates, and names a bad tag", () => {
    const csv = [
      "device_id,tags",
      "a, zone:1 ; pump;;pump ;",
      "b,ok;Bad Tag",
      `c,${Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`).join(";")}`,
    ].join("\n");
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [{ line: 2, deviceId: "a", name: null, tags: ["pump", "zone:1"], notes: null }],
      errors: [
        { line: 3, message: 'tags: "Bad Tag" must match [a-z0-9_.:-]{1,64}' },
        { line: 4, message: "tags must be at most 32 different tags (got 33)" },
      ],
      columns: ["tags"],
    });
  });

  it("refuses a device id repeated from an earlier line, naming that line", () => {
    const csv = "device_id,name\npump-1,A\npump-2,B\n\npump-1,C\npump-1,D\n";
    const { rows, errors } = parseImportCsv(csv, opts);
    expect(rows.map((r) => r.deviceId)).toEqual(["pump-1", "pump-2"]);
    expect(errors).toEqual([
      { line: 5, message: 'device_id "pump-1" already appears on line 2' },
      { line: 6, message: 'device_id "pump-1" already appears on line 2' },
    ]);
  });

  it("limits device ids to maxDeviceIdBytes of UTF-8, and refuses empty ones and control characters", () => {
    const csv = [
      "device_id",
      "x".repeat(300),
      "x".repeat(256),
      "é".repeat(129),
      "é".repeat(128),
      '""',
      "   ",
      '"tab\there"',
      "c1\u0085",
    ].join("\n");
    const { rows, errors } = parseImportCsv(csv, { maxRows: 100, maxDeviceIdBytes: 256 });
    expect(rows.map((r) => r.line)).toEqual([3, 5]);
    expect(errors).toEqual([
      { line: 2, message: "device_id must be at most 256 bytes in UTF-8 (got 300)" },
      { line: 4, message: "device_id must be at most 256 bytes in UTF-8 (got 258)" },
      { line: 6, message: "device_id must not be empty" },
      { line: 7, message: "device_id must not be only spaces" },
      { line: 8, message: "device_id must not contain control characters" },
      { line: 9, message: "device_id must not contain control characters" },
    ]);
  });

  it("keeps a device id exactly as written, spaces included", () => {
    expect(parseImportCsv("device_id,name\n pump-1 , Pump \n", opts).rows).toEqual([
      { line: 2, deviceId: " pump-1 ", name: "Pump", tags: [], notes: null },
    ]);
  });

  it("applies the PATCH limits to names and notes", () => {
    const csv = [
      "device_id,name,notes",
      `a,${"n".repeat(MAX_NAME + 1)},`,
      `b,,${"n".repeat(MAX_NOTES + 1)}`,
      'c,"two\nlines",',
      "d,   ,   ",
    ].join("\n");
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [{ line: 6, deviceId: "d", name: null, tags: [], notes: null }],
      errors: [
        { line: 2, message: "name must be at most 200 characters" },
        { line: 3, message: "notes must be at most 4000 characters" },
        { line: 4, message: "name must not contain control characters" },
      ],
      columns: ["name", "notes"],
    });
  });

  it("reports every problem of every row, not only the first", () => {
    const csv = "device_id,name,tags\n,Bad\u0001Name,X\nok,Fine,fine\nok,Again,fine\n";
    expect(parseImportCsv(csv, opts).errors).toEqual([
      { line: 2, message: "device_id must not be empty" },
      { line: 2, message: "name must not contain control characters" },
      { line: 2, message: 'tags: "X" must match [a-z0-9_.:-]{1,64}' },
      { line: 4, message: 'device_id "ok" already appears on line 3' },
    ]);
  });

  it("gives one error at the first row too many", () => {
    const csv = "device_id\na\nb\n\nc\nd\nBad\u0001\n";
    expect(parseImportCsv(csv, { maxRows: 2, maxDeviceIdBytes: 256 })).toEqual({
      rows: [
        { line: 2, deviceId: "a", name: null, tags: [], notes: null },
        { line: 3, deviceId: "b", name: null, tags: [], notes: null },
      ],
      errors: [{ line: 5, message: "more than 2 rows" }],
      columns: [],
    });
    expect(parseImportCsv(csv.replace("Bad\u0001\n", ""), { maxRows: 4, maxDeviceIdBytes: 256 }).errors).toEqual([]);
  });

  it("reports an unclosed quote at the line its record starts on, without throwing", () => {
    const csv = 'device_id,notes\npump-1,fine\n\npump-2,"never closed\nmore, text\npump-3,x\n';
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [{ line: 2, deviceId: "pump-1", name: null, tags: [], notes: "fine" }],
      errors: [
        { line: 4, message: 'a quoted field is not closed (a " is missing); the rest of the file could not be read' },
      ],
      columns: ["notes"],
    });
    expect(parseImportCsv('device_id,notes\n\n"pump-1,x\n', opts).errors).toEqual([
      { line: 3, message: 'a quoted field is not closed (a " is missing); the rest of the file could not be read' },
    ]);
  });

  it("reports a wrong column count and a stray quote with their lines, and reads on", () => {
    const csv = ["device_id,name", "a,A,extra", 'b,"multi\nline",extra', "c,C", 'd,5" pipe', "f", "g,G"].join("\n");
    const { rows, errors } = parseImportCsv(csv, opts);
    expect(rows.map((r) => [r.line, r.deviceId])).toEqual([
      [5, "c"],
      [8, "g"],
    ]);
    expect(errors).toEqual([
      { line: 2, message: "expected 2 columns like the header, got 3" },
      { line: 3, message: "expected 2 columns like the header, got 3" },
      { line: 6, message: 'a " inside a field that is not quoted (quote the whole field and double the " inside it)' },
      { line: 7, message: "expected 2 columns like the header, got 1" },
    ]);
  });

  it("says so when text after a closing quote leaves the rest of the file unread", () => {
    const csv = 'device_id,name\na,A\nb,"B" junior\nc,C\nd\n';
    expect(parseImportCsv(csv, opts)).toEqual({
      rows: [{ line: 2, deviceId: "a", name: "A", tags: [], notes: null }],
      errors: [
        {
          line: 3,
          message: 'text after a closing " (double a " inside a quoted field); the rest of the file could not be read',
        },
      ],
      columns: ["name"],
    });
  });

  it("reports a malformed header and nothing else", () => {
    expect(parseImportCsv('device_id,"name\npump-1,x\n', opts)).toEqual({
      rows: [],
      errors: [
        { line: 1, message: 'a quoted field is not closed (a " is missing); the rest of the file could not be read' },
      ],
      columns: [],
    });
  });

  it('says "no rows" for an empty file or a header alone', () => {
    for (const csv of ["", "\uFEFF", "\n\r\n", "device_id,name\n", "\uFEFFdevice_id\r\n\r\n"])
      expect(parseImportCsv(csv, opts), JSON.stringify(csv)).toEqual({
        rows: [],
        errors: [{ line: 1, message: "no rows" }],
        columns: csv.includes("name") ? ["name"] : [],
      });
  });
});
