-- Per-device activity (lib/store/activity.ts): raw rows for a recent window
-- and minute roll-ups kept longer. Both tables are partitioned by range on
-- time; the daily partitions are created ahead and dropped for retention by
-- the recorder, so removing old data is a DROP TABLE, never a bulk DELETE.
-- No DEFAULT partition: attaching a new partition would have to scan it.

-- CreateTable
CREATE TABLE "device_activity" (
    "device_id" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "kind" SMALLINT NOT NULL,
    "reason" TEXT,

    CONSTRAINT "device_activity_pkey" PRIMARY KEY ("device_id","at","kind")
) PARTITION BY RANGE ("at");

-- CreateTable
CREATE TABLE "device_activity_minutes" (
    "device_id" TEXT NOT NULL,
    "minute" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "max_gap_ms" INTEGER,

    CONSTRAINT "device_activity_minutes_pkey" PRIMARY KEY ("device_id","minute")
) PARTITION BY RANGE ("minute");
