/**
 * Validates every API answer the integration and browser suites recorded
 * (KEEPWATCH_CONTRACT_LOG, default `.contract-log/`) against the OpenAPI
 * document: lib/api/openapi/contract.ts. Exits 1 on any violation, on answers
 * from operations the document does not describe, or when nothing was
 * recorded. `--reset` empties the log first (run before the suites).
 *
 *   tsx scripts/contract-check.ts [--reset] [dir]
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ContractRecord } from "../lib/api/contract-log";
import { createContractChecker, type Violation } from "../lib/api/openapi/contract";
import { openApiDocument } from "../lib/api/openapi/document";
import { contractLogDir } from "../lib/testing/contract";

const args = process.argv.slice(2);
const dir = resolve(args.find((a) => !a.startsWith("--")) ?? contractLogDir());

if (args.includes("--reset")) {
  rmSync(dir, { recursive: true, force: true });
  console.log(`contract log emptied: ${dir}`);
  process.exit(0);
}

function* records(): Generator<ContractRecord> {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .sort())
    for (const line of readFileSync(join(dir, file), "utf8").split("\n"))
      if (line.trim() !== "") yield JSON.parse(line) as ContractRecord;
}

const report = createContractChecker(openApiDocument())(records());
const documented = report.seen.size + report.unseen.length;
console.log(
  `contract: ${report.responses} responses and ${report.events} stream events checked, ${report.seen.size} of ${documented} documented operations seen, ${report.violations.length} violations`,
);
if (report.responses === 0) {
  console.error(`contract: no responses recorded in ${dir} (the test servers write there with KEEPWATCH_CONTRACT_LOG)`);
  process.exit(1);
}
if (process.env.CONTRACT_VERBOSE) {
  for (const [op, n] of [...report.seen].sort()) console.log(`  ${String(n).padStart(6)}  ${op}`);
  for (const op of report.unseen) console.log(`       -  ${op} (not seen)`);
}
if (report.violations.length > 0) {
  const byKey = new Map<string, Violation[]>();
  for (const v of report.violations) {
    const key = `${v.operation} → ${v.status}: ${v.problem}`;
    byKey.set(key, [...(byKey.get(key) ?? []), v]);
  }
  for (const [key, list] of byKey)
    console.error(`✗ ${key.slice(0, 2000)}\n    ${list.length}× e.g. ${list[0].path.slice(0, 200)}`);
  process.exit(1);
}
