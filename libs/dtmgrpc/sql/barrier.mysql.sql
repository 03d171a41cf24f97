-- Sub-transaction barrier table for MySQL / MariaDB (dtm's layout, so TypeScript and Go services can share it).
-- Idempotent: safe to run on every start; it never drops or rewrites existing rows.
-- Apply it to the server that holds the business tables: the barrier row and the business writes must commit in
-- the same local transaction.
CREATE DATABASE IF NOT EXISTS dtm_barrier DEFAULT CHARACTER SET utf8mb4;

CREATE TABLE IF NOT EXISTS dtm_barrier.barrier (
  id BIGINT NOT NULL AUTO_INCREMENT,
  trans_type VARCHAR(45) DEFAULT '',
  gid VARCHAR(128) DEFAULT '',
  branch_id VARCHAR(128) DEFAULT '',
  op VARCHAR(45) DEFAULT '',
  barrier_id VARCHAR(45) DEFAULT '',
  -- the op whose call wrote this row (differs from op for the marker a cancel/compensate/rollback leaves)
  reason VARCHAR(45) DEFAULT '',
  create_time DATETIME DEFAULT NOW(),
  update_time DATETIME DEFAULT NOW(),
  PRIMARY KEY (id),
  KEY idx_barrier_create_time (create_time),
  KEY idx_barrier_update_time (update_time),
  -- the barrier's whole logic rests on this key: one row per (gid, branch, op, barrier id); trans_type is not in it
  UNIQUE KEY uniq_barrier (gid, branch_id, op, barrier_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
