/** @type {import('next').NextConfig} */
const nextConfig = {
  // Server-only packages with native bindings, sockets or WASM stay outside the bundle.
  serverExternalPackages: ["mqtt", "pg", "@prisma/adapter-pg", "@prisma/client", "aedes", "@electric-sql/pglite"],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
