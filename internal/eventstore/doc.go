// Package eventstore is the single writer of incident state: it applies the
// incident state machine's changes (uptime.Change) to jetmon_events and
// jetmon_event_transitions, and in the same transaction writes the legacy
// projection (jetpack_monitor_sites.site_status and last_status_change, while
// enabled), last_alert_sent_at, jetmon_false_positives and one jetmon_outbox
// row per transition. It also reads the open events back (to rebuild a new
// leader's state) and serves the outbox relay.
//
// # Rules it keeps
//
//   - Every mutation of an event writes exactly one transition row in the
//     same transaction; a change that alters nothing writes nothing.
//   - At most one event is open per identity (blog_id, check_type): the
//     dedup_key unique index enforces it, and an open that collides with an
//     open event is rejected with ErrOpenExists, never merged.
//   - Closed events are never written again: changes find their event only
//     among open ones.
//   - site_status is 0 while an HTTP event is Seems Down, 2 while one is Down,
//     and goes back to 1 only when no open HTTP event remains; it and
//     last_status_change are written only when the value changes, and every
//     write to jetpack_monitor_sites keeps updated_at, which the incremental
//     site sync reads.
//
// # Fencing
//
// Apply checks the coordinator's fencing epoch first in its own transaction;
// ApplyTx runs inside a caller's transaction that must already hold the
// fencing row (sqlstore.Ingest.CommitWith or sqlstore.HoldEpoch), which
// also serialises every writer of these tables.
//
// # Imports
//
// It imports uptime, internal/sqlstore (transactions and fencing), the MySQL
// driver (for its duplicate-key error only) and the standard library; never a
// role, NATS or chi. Only the coordinator's wiring (internal/jetmoncmd) and
// tests may import it: the architecture test in internal/testenv fails if
// anything else does.
package eventstore
