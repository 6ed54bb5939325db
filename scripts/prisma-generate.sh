#!/bin/sh
# Generates the Prisma client (lib/store/generated/prisma) without network access.
#
# The Prisma CLI downloads its native schema engine before running `generate`,
# even though `generate` never uses it. Pointing PRISMA_SCHEMA_ENGINE_BINARY at
# an existing file skips that download. An engine path already set in the
# environment (a machine that has the real engine) is kept.
set -eu
cd "$(dirname "$0")/.."
: "${PRISMA_SCHEMA_ENGINE_BINARY:=$PWD/prisma/schema-engine-offline.sh}"
export PRISMA_SCHEMA_ENGINE_BINARY
export CHECKPOINT_DISABLE=1 # no update check over the network
exec node node_modules/prisma/build/index.js generate "$@"
