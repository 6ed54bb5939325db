#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded on
# keepwatch's build machines. scripts/prisma-generate.sh points
# PRISMA_SCHEMA_ENGINE_BINARY here so the Prisma CLI's download step is skipped;
# `prisma generate` never runs the engine. Anything that does run it gets
# this message instead of a hang or a download error.
echo "keepwatch: Prisma's schema engine is not installed here." >&2
echo "Apply migrations with 'tsx scripts/migrate.ts' (lib/store/migrate.ts)." >&2
exit 1
