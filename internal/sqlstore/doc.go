// Package sqlstore is Jetmon Mesh's MySQL edge: it opens connection pools with
// the session settings every store relies on, runs transactions, creates the
// database and applies the embedded schema (package migrations). The stores
// that read and write the mesh's tables live here too.
//
// Every session is UTC: Open forces the driver's ParseTime and Loc=UTC and
// sets time_zone '+00:00' on each connection, so DATETIME values and
// CURRENT_TIMESTAMP defaults written by the mesh are UTC whatever the server's
// zone. When the DSN sets no sql_mode, sessions use MySQL 8.0's default mode
// (including ONLY_FULL_GROUP_BY) on MySQL and MariaDB alike, so a query that
// passes the MariaDB tests is also accepted by MySQL.
//
// Migrate applies the schema with golang-migrate under two MySQL advisory
// locks (GET_LOCK): golang-migrate's own, which it takes for every run but
// waits for at most 10 s, and sqlstore's, which serialises concurrent Migrate
// calls for as long as their context allows, so a second process starting
// during a long ALTER waits instead of failing. The applied version is kept in
// the table named by MigrationsTable. A failed migration leaves that version
// marked dirty and Migrate refuses to continue; after repairing the schema by
// hand, record the last good version with
//
//	UPDATE jetmon_mesh_migrations SET version = <last good>, dirty = 0
//
// and migrate again.
//
// This package must not import any role package (coordinator, prober,
// veriflier, deliverer, api), NATS or chi.
package sqlstore
