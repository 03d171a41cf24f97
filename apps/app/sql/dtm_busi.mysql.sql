-- The example's balances (apps/app, apps/trans): created by `bash scripts/db.sh up` and, when missing, by the app.
CREATE DATABASE IF NOT EXISTS dtm_busi;
CREATE TABLE IF NOT EXISTS dtm_busi.user_account (user_id INT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0);
INSERT IGNORE INTO dtm_busi.user_account (user_id, balance) VALUES (1, 10000), (2, 10000);
