-- A standby follows the alerts the leader writes by what changed since its
-- last read, not by re-reading every firing alert: each row carries the id of
-- the transaction that last wrote it (64-bit, never wraps). A reader keeps the
-- oldest transaction still running when it last read (the snapshot's xmin)
-- and next reads the rows written by that transaction or a later one, so a
-- transaction that commits after a younger one is not missed.
-- Inserts take it from the default; every update (the leader's, an
-- acknowledgement, a deleted rule's SET NULL) from the trigger.
-- BRIN: the ids grow with the table, so the index costs writes next to nothing.

-- AlterTable
ALTER TABLE "alerts" ADD COLUMN "changed_xid" BIGINT NOT NULL DEFAULT (pg_current_xact_id())::text::bigint;

-- CreateIndex
CREATE INDEX "alerts_changed_xid_idx" ON "alerts" USING BRIN ("changed_xid");

CREATE FUNCTION keepwatch_alert_changed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  NEW."changed_xid" := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;

CREATE TRIGGER "alerts_changed" BEFORE UPDATE ON "alerts" FOR EACH ROW EXECUTE FUNCTION keepwatch_alert_changed();
