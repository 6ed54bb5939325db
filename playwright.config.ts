import { defineConfig } from "@playwright/test";

// Real Chromium from Debian; the app, broker and database are started by the
// `stack` fixture (e2e/fixtures/stack.ts), one stack per worker.
export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 90_000,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "api", testMatch: /api\..*\.spec\.ts/ },
    { name: "ui", testMatch: /ui\..*\.spec\.ts/ },
  ],
});
