/**
 * Next calls register() once per server process (next start and next dev):
 * the monitor starts here, beside the web server, exactly once.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // `next build` loads server code too; the monitor only runs in a serving process.
  if (process.env.NEXT_PHASE === "phase-production-build" || process.env.KEEPWATCH_DISABLE_MONITOR === "1") return;
  const { startOrExit } = await import("./lib/runtime");
  await startOrExit();
}
