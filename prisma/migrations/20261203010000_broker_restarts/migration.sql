-- Truth across restarts: broker restarts are recorded (and end every open
-- session with reason broker_restart), restart detection keeps what it needs
-- across keepwatch's own restarts, and a session whose end was inferred
-- after a monitoring gap says so.

-- AlterTable
ALTER TABLE "sessions" ADD COLUMN "inferred" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "broker_restarts" (
    "id" BIGSERIAL NOT NULL,
    "broker" TEXT NOT NULL,
    "detected_at" TIMESTAMPTZ(3) NOT NULL,
    "down_at" TIMESTAMPTZ(3) NOT NULL,
    "up_at" TIMESTAMPTZ(3) NOT NULL,
    "evidence" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sessions_closed" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "broker_restarts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "broker_restarts_detected_at_idx" ON "broker_restarts"("detected_at");

-- CreateTable
CREATE TABLE "broker_state" (
    "broker" TEXT NOT NULL,
    "uptime_seconds" INTEGER,
    "uptime_at" TIMESTAMPTZ(3),
    "seen_up_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "broker_state_pkey" PRIMARY KEY ("broker")
);
