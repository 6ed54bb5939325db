// The V8 options keepwatch's server runs with: `npm start` (package.json), the demo, the tests' app and
// cluster processes, and the benchmark's runtime children, so that what is measured is what runs.
//
// - A 64 MB semi-space (V8's default: 16 MB). In a mass outage at 1,000,000 devices the process allocates
//   about 130 MB/s; with 16 MB semi-spaces a scavenge comes every ~0.1 s, so objects that live a second
//   (a batch being written, fleet changes waiting for the alert engine) are copied and promoted, and the
//   old generation reaches its next mark-compact sooner. Price: the young generation may grow from 32 MB
//   to 128 MB.
// - V8's helper threads (GC marking and scavenging, compilation): one core fewer than the machine has,
//   at most Node's default of 4. On 2 cores the default 4 helpers marking a 2 GB heap took the CPU from
//   the main thread, which judges the fleet: verdicts ran 1–2 s late during each mark-compact of a mass
//   outage at 1,000,000 devices, and about 0.5 s late with one helper (docs/BENCHMARKS.md).
//
// Run directly, it prints NODE_OPTIONS with these added: `NODE_OPTIONS="$(node scripts/node-options.mjs)"`.
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

export const SERVER_NODE_FLAGS = [
  "--max-semi-space-size=64",
  `--v8-pool-size=${Math.max(1, Math.min(4, availableParallelism() - 1))}`,
];

/** NODE_OPTIONS for a server process: the caller's own, then ours (a flag the caller set stays theirs). */
export function serverNodeOptions(current = process.env.NODE_OPTIONS ?? "") {
  const own = SERVER_NODE_FLAGS.filter((f) => !current.includes(f.split("=")[0]));
  return [current, ...own].filter(Boolean).join(" ");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(serverNodeOptions());
