-- Notification channels and the outbox (lib/notify).
--
-- A rule's webhook URL becomes a webhook channel (one per distinct URL, also
-- the default for system alerts, which went to every rule's webhook before),
-- and the rule points at it through "channel_ids".

CREATE TABLE "channels" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "default_for_system" BOOLEAN NOT NULL DEFAULT false,
    "rate_per_minute" INTEGER,
    "next_send_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "channels_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "alert_rules" ADD COLUMN "channel_ids" INTEGER[] DEFAULT ARRAY[]::INTEGER[];

INSERT INTO "channels" ("name", "type", "config", "default_for_system")
SELECT 'Webhook ' || COALESCE(substring(u."webhook_url" from '^[A-Za-z]+://([^/?#]+)'), u."webhook_url"),
       'webhook', jsonb_build_object('url', u."webhook_url"), true
  FROM (SELECT DISTINCT "webhook_url" FROM "alert_rules" WHERE "webhook_url" IS NOT NULL) u
 ORDER BY u."webhook_url";

UPDATE "alert_rules" r SET "channel_ids" = ARRAY[c."id"]
  FROM "channels" c
 WHERE r."webhook_url" IS NOT NULL AND c."type" = 'webhook' AND c."config"->>'url' = r."webhook_url";

ALTER TABLE "alert_rules" DROP COLUMN "webhook_url";

CREATE TABLE "notifications" (
    "id" BIGSERIAL NOT NULL,
    "event_id" TEXT NOT NULL,
    "channel_id" INTEGER NOT NULL,
    "event" TEXT NOT NULL,
    "alert_id" BIGINT,
    "incident_id" TEXT,
    "payload" JSONB NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "notifications_event_id_channel_id_key" ON "notifications"("event_id", "channel_id");
CREATE INDEX "notifications_state_next_attempt_at_idx" ON "notifications"("state", "next_attempt_at");
CREATE INDEX "notifications_channel_id_state_idx" ON "notifications"("channel_id", "state");
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_channel_id_fkey"
    FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "alert_deliveries" ADD COLUMN "channel_id" INTEGER,
    ADD COLUMN "notification_id" BIGINT,
    ADD COLUMN "final" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "digest" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "alert_deliveries_channel_id_at_idx" ON "alert_deliveries"("channel_id", "at");
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_channel_id_fkey"
    FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_notification_id_fkey"
    FOREIGN KEY ("notification_id") REFERENCES "notifications"("id") ON DELETE SET NULL ON UPDATE CASCADE;
