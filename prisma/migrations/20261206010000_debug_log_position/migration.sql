-- Where the leader's writes have got to in Mosquitto's debug log: written in
-- the same transaction as the fleet changes its lines made, so a restart
-- reads again exactly the lines whose changes were not written yet (those
-- while keepwatch was away among them). One row per shard: each shard's
-- leader writes only its own devices' changes.

-- CreateTable
CREATE TABLE "debug_log_positions" (
    "shard" TEXT NOT NULL,
    "file" TEXT NOT NULL,
    "dev" TEXT NOT NULL,
    "ino" TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    "tail" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "debug_log_positions_pkey" PRIMARY KEY ("shard","file")
);
