// The V8 options keepwatch's server runs with: `npm start` (package.json), the demo, the tests' app and
// cluster processes, and the benchmark's runtime children, so that what is measured is what runs.
//
// V8's helper threads (garbage-collector marking and scavenging, compilation): one fewer than the
// machine's cores, at most Node's default of 4. A mark-compact of a large heap (2 GB during a mass outage
// at 1,000,000 devices) runs concurrently on the helpers, and on a small machine four of them, with the
// database beside them, take the CPU from the main thread, which judges the fleet. On 2 cores the 1M
// detection stage's verdicts were 1.3–2.4 s late during each such collection with 4 helpers (p99
// 1.25–1.73 s, with 64 MB semi-spaces), at most 1.5 s with one (p99 0.77–0.78 s, default semi-spaces).
//
// Run directly, it prints NODE_OPTIONS with these added: `NODE_OPTIONS="$(node scripts/node-options.mjs)"`.
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

export const SERVER_NODE_FLAGS = [`--v8-pool-size=${Math.max(1, Math.min(4, availableParallelism() - 1))}`];

/** NODE_OPTIONS for a server process: the caller's own, then ours (a flag the caller set stays theirs). */
export function serverNodeOptions(current = process.env.NODE_OPTIONS ?? "") {
  const own = SERVER_NODE_FLAGS.filter((f) => !current.includes(f.split("=")[0]));
  return [current, ...own].filter(Boolean).join(" ");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(serverNodeOptions());
