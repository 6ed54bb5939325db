-- Alerts (lib/alerts, lib/store/alerts.ts): operators' rules, the alerts they
-- raise (firing → resolved) and the webhook delivery log.
--
-- "alerts_one_firing_idx" is a partial unique index: at most one firing alert
-- per (device, kind). Every write upserts against it, which is what makes
-- alerting idempotent across restarts and repeated writes. Prisma's schema
-- cannot declare a partial index, so it lives here only and is allow-listed
-- in lib/store/schema-shape.ts (SQL_ONLY_INDEXES).

-- CreateTable
CREATE TABLE "alert_rules" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "match" TEXT NOT NULL,
    "offline_factor" DOUBLE PRECISION,
    "offline_seconds" INTEGER,
    "late_factor" DOUBLE PRECISION,
    "flap_disconnects" INTEGER,
    "flap_window_seconds" INTEGER,
    "near_miss_ratio" DOUBLE PRECISION,
    "resolve_after_seconds" INTEGER NOT NULL DEFAULT 30,
    "repeat_interval_seconds" INTEGER,
    "webhook_url" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" BIGSERIAL NOT NULL,
    "device_id" TEXT NOT NULL,
    "rule_id" INTEGER,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "fired_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),
    "message" TEXT NOT NULL,
    "resolve_message" TEXT,
    "last_notified_at" TIMESTAMPTZ(3),

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "alert_id" BIGINT NOT NULL,
    "event" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "status_code" INTEGER,
    "error" TEXT,
    "duration_ms" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "alert_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "alerts_state_fired_at_idx" ON "alerts"("state", "fired_at");

-- CreateIndex
CREATE INDEX "alerts_device_id_fired_at_idx" ON "alerts"("device_id", "fired_at");

-- CreateIndex
CREATE INDEX "alert_deliveries_at_idx" ON "alert_deliveries"("at");

-- CreateIndex
CREATE INDEX "alert_deliveries_alert_id_idx" ON "alert_deliveries"("alert_id");

-- AddForeignKey
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Partial unique index (SQL only, see above): one firing alert per device and kind.
CREATE UNIQUE INDEX "alerts_one_firing_idx" ON "alerts"("device_id", "kind") WHERE "state" = 'firing';

-- The default rule: matches every device, cannot be deleted (lib/alerts/rules.ts DEFAULT_RULE).
INSERT INTO "alert_rules" ("name", "match", "offline_factor", "flap_disconnects", "flap_window_seconds",
                           "resolve_after_seconds", "is_default")
VALUES ('Default', '*', 1.5, 5, 60, 30, true);
