-- Minute roll-ups packed by device and hour (lib/store/activity.ts): once a
-- UTC day is over, its device_activity_minutes partition is folded into
-- this table (one row per device-hour, the minutes as parallel arrays) and
-- dropped. Partitioned by day like the others; retention drops partitions.

-- CreateTable
CREATE TABLE "device_activity_hours" (
    "device_id" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "minutes" SMALLINT[],
    "counts" INTEGER[],
    "max_gaps_ms" INTEGER[],

    CONSTRAINT "device_activity_hours_pkey" PRIMARY KEY ("device_id","hour")
) PARTITION BY RANGE ("hour");
