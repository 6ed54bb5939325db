-- Disconnect history (GET /api/disconnects, /api/disconnects.csv): keyset
-- pages in (disconnected_at, device_id, connected_at) order, fleet-wide and
-- per device. The wider index replaces the one on disconnected_at alone and
-- still serves `disconnected_at IS NULL` (open sessions).

-- DropIndex
DROP INDEX "sessions_disconnected_at_idx";

-- CreateIndex
CREATE INDEX "sessions_disconnected_at_device_id_connected_at_idx" ON "sessions"("disconnected_at", "device_id", "connected_at");

-- CreateIndex
CREATE INDEX "sessions_device_id_disconnected_at_connected_at_idx" ON "sessions"("device_id", "disconnected_at", "connected_at");
