/**
 * Reads Prometheus' text format with the Prometheus project's own parser
 * (Debian's python3-prometheus-client, `prometheus_client.parser`), so a test
 * checks /metrics the way a scraper reads it.
 */
import { execFileSync } from "node:child_process";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  /** counter, gauge, histogram, summary, unknown */
  type: string;
  samples: Sample[];
}

const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)}
        for s in f.samples]})
print(json.dumps(out))
`;

export function parsePrometheus(text: string): Map<string, Family> {
  const out = execFileSync("/usr/bin/python3", ["-c", SCRIPT], { input: text, maxBuffer: 64 * 2 ** 20 });
  const families = JSON.parse(out.toString()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of the sample called `name` (the family's own name by default) with these labels; NaN when absent. */
export function sampleValue(
  family: Family | undefined,
  labels: Record<string, string> = {},
  name = family?.name,
): number {
  const s = family?.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? Number(s.value) : Number.NaN;
}
