// Part of `npm start`: builds the app when the build is missing or older than
// the sources; `next start` then serves web + monitor in one process.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SOURCE_DIRS = [
  "app",
  "components",
  "lib",
  "prisma",
  "public",
  "instrumentation.ts",
  "proxy.ts",
  "next.config.js",
  "package.json",
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "generated" || entry === "node_modules") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

const buildId = ".next/BUILD_ID";
const stale = !existsSync(buildId) || Math.max(...SOURCE_DIRS.map(newestMtime)) > statSync(buildId).mtimeMs;
if (stale) {
  console.log("[keepwatch] building the app (first start or sources changed)…");
  const build = spawnSync("npx", ["next", "build"], {
    stdio: "inherit",
    env: { ...process.env, KEEPWATCH_DISABLE_MONITOR: "1" },
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
