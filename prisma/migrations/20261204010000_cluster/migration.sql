-- High availability: one leader per shard (all devices: '1/1') among the
-- keepwatch processes sharing this database, chosen by a lease row; each
-- leadership term has a larger epoch, and the leader's writes are fenced by
-- it (keepwatch_fence).

-- CreateTable
CREATE TABLE "cluster_leader" (
    "shard" TEXT NOT NULL,
    "epoch" BIGINT NOT NULL DEFAULT 0,
    "leader_id" TEXT,
    "leader_since" TIMESTAMPTZ(3),
    "lease_until" TIMESTAMPTZ(3),

    CONSTRAINT "cluster_leader_pkey" PRIMARY KEY ("shard")
);

-- CreateTable
CREATE TABLE "cluster_members" (
    "instance_id" TEXT NOT NULL,
    "shard" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cluster_members_pkey" PRIMARY KEY ("instance_id")
);

-- The first statement of every transaction the leader writes: refused once a
-- newer epoch exists. FOR KEY SHARE lets the lease be renewed meanwhile, but
-- makes a takeover (SELECT … FOR UPDATE, then a new epoch) wait until the
-- transactions of the old epoch have ended, so none commits after it.
CREATE FUNCTION keepwatch_fence(of_shard TEXT, expected BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM "cluster_leader" WHERE "shard" = of_shard AND "epoch" = expected FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'keepwatch leadership epoch % of shard % has ended: another instance leads now', expected, of_shard
      USING ERRCODE = 'KW409';
  END IF;
END
$$;
