-- Sub-transaction barrier table for PostgreSQL (dtm's layout, so TypeScript and Go services can share it).
-- Idempotent: safe to run on every start; it never drops or rewrites existing rows.
-- Apply it to the database that holds the business tables: the barrier row and the business writes must commit
-- in the same local transaction.
CREATE SCHEMA IF NOT EXISTS dtm_barrier;

CREATE SEQUENCE IF NOT EXISTS dtm_barrier.barrier_seq;

CREATE TABLE IF NOT EXISTS dtm_barrier.barrier (
  id BIGINT NOT NULL DEFAULT nextval('dtm_barrier.barrier_seq'),
  trans_type VARCHAR(45) DEFAULT '',
  gid VARCHAR(128) DEFAULT '',
  branch_id VARCHAR(128) DEFAULT '',
  op VARCHAR(45) DEFAULT '',
  barrier_id VARCHAR(45) DEFAULT '',
  -- the op whose call wrote this row (differs from op for the marker a cancel/compensate/rollback leaves)
  reason VARCHAR(45) DEFAULT '',
  create_time TIMESTAMP(0) WITH TIME ZONE DEFAULT NULL,
  update_time TIMESTAMP(0) WITH TIME ZONE DEFAULT NULL,
  PRIMARY KEY (id),
  -- the insert statement names this constraint (ON CONFLICT ON CONSTRAINT uniq_barrier): keep the name
  CONSTRAINT uniq_barrier UNIQUE (gid, branch_id, op, barrier_id)
);
