-- Alert hygiene (lib/alerts, lib/inventory): system alerts, incidents,
-- acknowledgements, silences, and the operator's names, tags and notes for
-- devices (with devices expected by an import that were never seen).
--
-- "alerts_one_firing_system_idx" is a partial unique index like
-- "alerts_one_firing_idx": at most one firing system alert per source. It
-- lives here only and is allow-listed in lib/store/schema-shape.ts.

-- Incidents: many devices offline for one cause, notified once.
CREATE TABLE "incidents" (
    "id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "opened_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),
    "cause_kind" TEXT NOT NULL,
    "cause_reason" TEXT NOT NULL,
    "device_count" INTEGER NOT NULL,
    "still_offline" INTEGER NOT NULL,
    "message" TEXT NOT NULL,
    "resolve_message" TEXT,
    "last_notified_at" TIMESTAMPTZ(3),
    "acknowledged_at" TIMESTAMPTZ(3),
    "acknowledged_by" TEXT,
    "ack_comment" TEXT,

    CONSTRAINT "incidents_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "incidents_state_opened_at_idx" ON "incidents"("state", "opened_at");

-- System alerts have no device.
ALTER TABLE "alerts" ALTER COLUMN "device_id" DROP NOT NULL;
ALTER TABLE "alerts" ADD COLUMN "source" TEXT;
ALTER TABLE "alerts" ADD COLUMN "incident_id" TEXT;
ALTER TABLE "alerts" ADD COLUMN "acknowledged_at" TIMESTAMPTZ(3);
ALTER TABLE "alerts" ADD COLUMN "acknowledged_by" TEXT;
ALTER TABLE "alerts" ADD COLUMN "ack_comment" TEXT;
ALTER TABLE "alerts" ADD COLUMN "silenced" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "alerts" ADD COLUMN "silence_id" TEXT;
-- Whether a notification for the alert itself went out (not: held for grouping, in an incident, or silenced).
ALTER TABLE "alerts" ADD COLUMN "notified" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "alerts_incident_id_idx" ON "alerts"("incident_id");
CREATE UNIQUE INDEX "alerts_one_firing_system_idx" ON "alerts" ("source") WHERE "state" = 'firing' AND "device_id" IS NULL;

-- Incident notifications are logged too.
ALTER TABLE "alert_deliveries" ALTER COLUMN "alert_id" DROP NOT NULL;
ALTER TABLE "alert_deliveries" ADD COLUMN "incident_id" TEXT;
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Rules may match by tags (any of) as well as by glob.
ALTER TABLE "alert_rules" ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Silences and maintenance windows.
CREATE TABLE "silences" (
    "id" TEXT NOT NULL,
    "match" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3),
    "recurrence" JSONB,
    "comment" TEXT NOT NULL,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "silences_pkey" PRIMARY KEY ("id")
);

-- The operator's inventory: names, tags, notes; expected devices.
CREATE TABLE "device_labels" (
    "device_id" TEXT NOT NULL,
    "name" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "notes" TEXT,
    -- Set by an import for a device never seen: it should exist.
    "expected_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "device_labels_pkey" PRIMARY KEY ("device_id")
);
