/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native bindings, sockets or WASM stay outside the bundle.
  serverExternalPackages: [
    "mqtt",
    "pg",
    "@prisma/adapter-pg",
    "@prisma/client",
    "aedes",
    "ws",
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@node-rs/argon2",
    "undici",
  ],
  poweredByHeader: false,
  // Operators and tests open the dev server as 127.0.0.1 as often as localhost.
  allowedDevOrigins: ["127.0.0.1"],
  reactStrictMode: true,
};

export default nextConfig;
