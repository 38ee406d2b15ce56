// Package migrations embeds Jetmon Mesh's MySQL schema as forward-only,
// numbered SQL files for golang-migrate (github.com/golang-migrate/migrate/v4).
// It imports nothing but embed; internal/sqlstore applies it (sqlstore.Migrate).
//
// # Files
//
// Each file is NNNNNN_name.up.sql, numbered from 000001 without gaps. There
// are no down files: a change is always a new file, and an applied file is
// never edited (the migrations test pins the rules it can check).
//
// # One statement per file
//
// MySQL commits implicitly around every DDL statement, so a file with several
// statements could be left half-applied with no way to roll it back. Every
// file therefore holds exactly one statement, without a trailing semicolon
// (semicolons may appear only in "--" comment lines), and sqlstore connects
// without multiStatements: a second statement is a syntax error rather than a
// silent partial apply. A single DDL statement either happens or it does not,
// so a failure leaves the version dirty at a file that did not take effect;
// fix the cause, force the previous version, and migrate again. Indexes are
// declared inside CREATE TABLE so a table and its indexes are one statement.
//
// # MySQL 8.0 and MariaDB 10.6+
//
// The SQL must run unchanged on both. Therefore:
//
//   - no MariaDB-only syntax: no ADD COLUMN IF NOT EXISTS, CREATE OR
//     REPLACE, or PERSISTENT generated columns (use STORED);
//   - no CHECK constraints, functional indexes, DEFAULT (expression), invisible
//     columns or descending indexes, whose support or meaning differs;
//   - JSON columns are declared JSON. MySQL stores a binary JSON type; MariaDB
//     makes the column LONGTEXT COLLATE utf8mb4_bin with an automatic
//     CHECK (json_valid(col)). Both reject invalid JSON on write, but MariaDB
//     returns the text as written while MySQL returns it normalised (key order
//     and spacing may change), so code must compare decoded values, never
//     bytes. JSON columns have no DEFAULT;
//   - the collation is utf8mb4_unicode_ci, named on every table (MySQL 8's
//     default utf8mb4_0900_ai_ci does not exist in MariaDB 10.6). Exact-match
//     columns (secrets, hashes, idempotency keys) use a binary collation;
//   - upserts use ON DUPLICATE KEY UPDATE col = VALUES(col): MariaDB has no
//     "AS new" row alias, and MySQL 8.0.20+ only warns that VALUES() is
//     deprecated;
//   - no foreign keys: referential integrity is kept by the single writer of
//     each table, and foreign keys would add locking to the hot event path.
//
// # Time
//
// Mesh timestamps are DATETIME(3) in UTC. sqlstore forces every session to
// time_zone '+00:00', so CURRENT_TIMESTAMP(3) defaults are UTC for the mesh's
// own writes; other clients (legacy PHP writing jetpack_monitor_sites) get
// their own session zone in DEFAULT and ON UPDATE values, so the server
// should run with default-time-zone='+00:00' as Jetmon v2 already required.
// Legacy columns of jetpack_monitor_sites keep their v1 types (DATETIME,
// DATE) and also hold UTC.
//
// # Existing Jetmon databases
//
// jetpack_monitor_sites is created only if absent, and 000002 then fails with
// "Unknown column" if an existing table lacks a column the mesh uses. Every
// other table is created without IF NOT EXISTS, so a Jetmon v2 table of the
// same name (jetmon_events, jetmon_audit_log, ...) stops the migration loudly
// instead of being adopted with an unknown shape.
//
// # Writing to jetpack_monitor_sites
//
// updated_at changes on every UPDATE that does not set it, and the
// coordinator's incremental site sync reads it. Writers of bookkeeping
// columns (site_status, last_status_change, last_checked_at,
// ssl_expiry_date, last_alert_sent_at) must SET updated_at = updated_at so a
// check is not mistaken for a configuration change.
package migrations
