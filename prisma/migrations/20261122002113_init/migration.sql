-- CreateTable
CREATE TABLE "devices" (
    "id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "status_since" TIMESTAMPTZ(3) NOT NULL,
    "keepalive_seconds" INTEGER,
    "last_seen_at" TIMESTAMPTZ(3),
    "last_ping_at" TIMESTAMPTZ(3),
    "last_message_at" TIMESTAMPTZ(3),
    "last_confirmed_at" TIMESTAMPTZ(3),
    "connected_at" TIMESTAMPTZ(3),
    "connect_reported_at" TIMESTAMPTZ(3),
    "session_open" BOOLEAN NOT NULL DEFAULT false,
    "last_disconnect_at" TIMESTAMPTZ(3),
    "last_disconnect_reason" TEXT,
    "disconnect_count" INTEGER NOT NULL DEFAULT 0,
    "takeover_count" INTEGER NOT NULL DEFAULT 0,
    "address" TEXT,
    "protocol" TEXT,
    "clean_start" BOOLEAN,
    "sources" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "device_id" TEXT NOT NULL,
    "connected_at" TIMESTAMPTZ(3) NOT NULL,
    "disconnected_at" TIMESTAMPTZ(3),
    "reason" TEXT,
    "keepalive_seconds" INTEGER,
    "last_activity_at" TIMESTAMPTZ(3),

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("device_id","connected_at")
);

-- CreateTable
CREATE TABLE "monitor_gaps" (
    "id" BIGSERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "reason" TEXT NOT NULL,

    CONSTRAINT "monitor_gaps_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "devices_status_id_idx" ON "devices"("status", "id");

-- CreateIndex
CREATE INDEX "devices_id_prefix_idx" ON "devices"("id" text_pattern_ops);

-- CreateIndex
CREATE INDEX "sessions_disconnected_at_idx" ON "sessions"("disconnected_at");

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE CASCADE ON UPDATE CASCADE;
