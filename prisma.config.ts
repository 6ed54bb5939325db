import { defineConfig } from "prisma/config";

// Prisma 7 reads the connection URL from here, not from schema.prisma.
// DATABASE_URL is optional: `prisma generate` (postinstall) needs no database.
// Migrations are applied by `npm run db:migrate` (scripts/migrate.ts), which
// keeps Prisma's `_prisma_migrations` bookkeeping, so `prisma migrate status`
// agrees wherever Prisma's schema engine is available.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL },
});
