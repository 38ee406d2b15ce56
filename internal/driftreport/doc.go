// Package driftreport builds and prints `jetmon rollout projection-drift`:
// the read-only report of active sites whose legacy site_status projection
// disagrees with their open HTTP events, in the line format of Jetmon v2's
// rollout commands (INFO/WARN/PASS lines, "## section" headers and aligned
// tables; --output json wraps the same lines in one envelope).
//
// [Build] reads drift through a [Source] (sqlstore.DriftReader in
// production): the count, every summary group (cause totals cover groups
// the table does not print) and the first rows, then counts again to warn
// when drift changed while the report ran. Strings read from the database
// are printed with control characters replaced by '?'. It never writes.
//
// It imports uptime and sqlstore (for the drift row types) and the standard
// library; it must not import any role package, NATS or cobra.
package driftreport
