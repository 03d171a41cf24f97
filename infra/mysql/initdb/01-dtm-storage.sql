-- dtm v1.19 storage schema for its MySQL store (Store.Driver = mysql).
-- dtm never creates its own tables, so the compose stack runs this file once, at MySQL's first start
-- (mounted into /docker-entrypoint-initdb.d; MySQL runs it only while its data directory is empty).
-- Written for this project from the columns dtm's storage layer reads and writes: database `dtm`,
-- tables trans_global (one row per global transaction), trans_branch_op (one row per branch
-- operation) and kv (topics and other small records). Idempotent; it never drops anything.

CREATE DATABASE IF NOT EXISTS dtm DEFAULT CHARACTER SET utf8mb4;

CREATE TABLE IF NOT EXISTS dtm.trans_global (
  id BIGINT NOT NULL AUTO_INCREMENT,
  gid VARCHAR(128) NOT NULL COMMENT 'global transaction id',
  trans_type VARCHAR(45) NOT NULL COMMENT 'msg, saga, tcc, xa or workflow',
  status VARCHAR(12) NOT NULL COMMENT 'prepared, submitted, aborting, succeed or failed',
  query_prepared VARCHAR(1024) NOT NULL COMMENT 'back-check URL of a msg or workflow',
  protocol VARCHAR(45) NOT NULL COMMENT 'http, grpc or json-rpc',
  create_time DATETIME DEFAULT NULL,
  update_time DATETIME DEFAULT NULL,
  finish_time DATETIME DEFAULT NULL,
  rollback_time DATETIME DEFAULT NULL,
  options VARCHAR(1024) DEFAULT '' COMMENT 'transaction options as JSON (timeouts, retries, wait_result ...)',
  custom_data VARCHAR(1024) DEFAULT '' COMMENT 'customed data, e.g. saga concurrency',
  next_cron_interval INT DEFAULT NULL COMMENT 'seconds until the next retry',
  next_cron_time DATETIME DEFAULT NULL COMMENT 'when the cron job picks this transaction up again',
  owner VARCHAR(128) NOT NULL DEFAULT '' COMMENT 'id of the cron pass that locked this row',
  ext_data TEXT COMMENT 'extension data (workflow results)',
  result VARCHAR(1024) DEFAULT '' COMMENT 'result reported back to the caller',
  rollback_reason VARCHAR(1024) DEFAULT '' COMMENT 'why the transaction was rolled back',
  PRIMARY KEY (id),
  UNIQUE KEY gid (gid),
  KEY owner (owner),
  KEY status_next_cron_time (status, next_cron_time) COMMENT 'the cron job looks up due transactions by these'
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS dtm.trans_branch_op (
  id BIGINT NOT NULL AUTO_INCREMENT,
  gid VARCHAR(128) NOT NULL COMMENT 'global transaction id',
  url VARCHAR(1024) NOT NULL COMMENT 'branch URL: target + method for gRPC',
  data TEXT COMMENT 'request body (legacy column, kept for compatibility)',
  bin_data BLOB COMMENT 'request body',
  branch_id VARCHAR(128) NOT NULL COMMENT 'branch id within the transaction',
  op VARCHAR(45) NOT NULL COMMENT 'action, compensate, try, confirm, cancel, commit or rollback',
  status VARCHAR(45) NOT NULL COMMENT 'prepared, succeed or failed',
  finish_time DATETIME DEFAULT NULL,
  rollback_time DATETIME DEFAULT NULL,
  create_time DATETIME DEFAULT NULL,
  update_time DATETIME DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY gid_uniq (gid, branch_id, op)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS dtm.kv (
  id BIGINT NOT NULL AUTO_INCREMENT,
  cat VARCHAR(45) NOT NULL COMMENT 'category, e.g. topics',
  k VARCHAR(128) NOT NULL,
  v TEXT,
  version BIGINT DEFAULT 1 COMMENT 'optimistic-lock version of v',
  create_time DATETIME DEFAULT NULL,
  update_time DATETIME DEFAULT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uniq_k (cat, k)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
