package eventstore_test

import (
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// testEpoch is the epoch newStore advances the fence to.
const testEpoch = 11

var (
	// t0 is the time of the first change; later ones add seconds.
	t0 = time.Date(2026, 5, 4, 10, 0, 0, 123_000_000, time.UTC)
	// past is every site's updated_at: bookkeeping writes must keep it.
	past = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
)

// at is t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// jsonPayload encodes the outbox item as is.
func jsonPayload(item eventstore.OutboxItem) ([]byte, error) { return json.Marshal(item) }

// newStore returns a fresh database whose fence holds testEpoch, with sites
// 1, 2 and 3, and a store on it.
func newStore(t testing.TB, opts eventstore.Opts) (*sql.DB, *eventstore.Store) {
	t.Helper()
	db := testenv.NewDB(t)
	if err := sqlstore.NewFence(db).Advance(t.Context(), testEpoch, "test"); err != nil {
		t.Fatalf("advance fence: %v", err)
	}
	for _, blog := range []int64{1, 2, 3} {
		_, err := db.ExecContext(t.Context(),
			"INSERT INTO jetpack_monitor_sites (blog_id, monitor_url, updated_at) VALUES (?, ?, ?)",
			blog, "https://example.test", past)
		if err != nil {
			t.Fatalf("insert site %d: %v", blog, err)
		}
	}
	if opts.Payload == nil {
		opts.Payload = jsonPayload
	}
	s, err := eventstore.New(db, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return db, s
}

// change builds one change of blog's checkType event at time when.
func change(op uptime.Op, blog int64, checkType string, sev uptime.Severity, state uptime.State,
	reason uptime.Reason, when time.Time) uptime.Change {
	return uptime.Change{Op: op,
		Event: uptime.Event{BlogID: blog, CheckType: checkType, Severity: sev, State: state, StartedAt: when,
			Metadata: map[string]any{"http_code": 503}},
		Transition: uptime.Transition{Reason: reason, ChangedAt: when}}
}

// Changes of the HTTP event of blog.
func openHTTP(blog int64, when time.Time) uptime.Change {
	return change(uptime.OpOpen, blog, uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown,
		uptime.ReasonOpened, when)
}

func promote(blog int64, when time.Time) uptime.Change {
	c := change(uptime.OpUpdate, blog, uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown,
		uptime.ReasonVerifierConfirmed, when)
	c.Transition.Metadata = map[string]any{"votes": []any{map[string]any{"region": "us", "up": false}}}
	return c
}

func closeHTTP(blog int64, reason uptime.Reason, when time.Time) uptime.Change {
	return change(uptime.OpClose, blog, uptime.CheckTypeHTTP, 0, "", reason, when)
}

// tlsExpiry is a change of blog's tls_expiry advisory with days_until.
func tlsExpiry(op uptime.Op, blog int64, sev uptime.Severity, reason uptime.Reason, days int, when time.Time) uptime.Change {
	state := uptime.StateWarning
	if sev == uptime.SeverityDegraded {
		state = uptime.StateDegraded
	}
	c := change(op, blog, uptime.CheckTypeTLSExpiry, sev, state, reason, when)
	c.Event.Metadata = map[string]any{"days_until": days}
	return c
}

// apply commits changes at testEpoch and fails the test on error.
func apply(t testing.TB, s *eventstore.Store, changes ...uptime.Change) []uptime.Transition {
	t.Helper()
	written, err := s.Apply(t.Context(), testEpoch, changes, nil, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return written
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// tableCounts counts the rows of every table the store writes.
type tableCounts struct{ events, transitions, outbox, falsePositives int }

func counts(t testing.TB, db *sql.DB) tableCounts {
	t.Helper()
	return tableCounts{
		events:         count(t, db, "SELECT COUNT(*) FROM jetmon_events"),
		transitions:    count(t, db, "SELECT COUNT(*) FROM jetmon_event_transitions"),
		outbox:         count(t, db, "SELECT COUNT(*) FROM jetmon_outbox"),
		falsePositives: count(t, db, "SELECT COUNT(*) FROM jetmon_false_positives"),
	}
}

// site is a jetpack_monitor_sites row's bookkeeping as read back.
type site struct {
	status                int
	lastChange, lastAlert sql.NullTime
	updatedAt             time.Time
}

func readSite(t testing.TB, db *sql.DB, blog int64) site {
	t.Helper()
	var s site
	err := db.QueryRowContext(t.Context(), `SELECT site_status, last_status_change, last_alert_sent_at, updated_at
		FROM jetpack_monitor_sites WHERE blog_id = ?`, blog).Scan(&s.status, &s.lastChange, &s.lastAlert, &s.updatedAt)
	if err != nil {
		t.Fatalf("read site %d: %v", blog, err)
	}
	return s
}

// transitionRow is a jetmon_event_transitions row as read back.
type transitionRow struct {
	id, eventID             int64
	sevBefore, sevAfter     sql.NullInt64
	stateBefore, stateAfter sql.NullString
	reason, source          string
	changedAt               time.Time
}

// readTransitions returns blog's transitions in replay order.
func readTransitions(t testing.TB, db *sql.DB, blog int64) []transitionRow {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT id, event_id, severity_before, severity_after, state_before,
		state_after, reason, source, changed_at FROM jetmon_event_transitions WHERE blog_id = ? ORDER BY changed_at, id`, blog)
	if err != nil {
		t.Fatalf("read transitions: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var out []transitionRow
	for rows.Next() {
		var r transitionRow
		if err := rows.Scan(&r.id, &r.eventID, &r.sevBefore, &r.sevAfter, &r.stateBefore, &r.stateAfter,
			&r.reason, &r.source, &r.changedAt); err != nil {
			t.Fatalf("scan transition: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read transitions: %v", err)
	}
	return out
}

// eventRow is a jetmon_events row as read back.
type eventRow struct {
	id, severity     int64
	checkType, state string
	startedAt        time.Time
	endedAt          sql.NullTime
	resolution       sql.NullString
	metadata         sql.NullString
	updatedAt        time.Time
}

// readEvents returns blog's events in id order.
func readEvents(t testing.TB, db *sql.DB, blog int64) []eventRow {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT id, severity, check_type, state, started_at, ended_at,
		resolution_reason, metadata, updated_at FROM jetmon_events WHERE blog_id = ? ORDER BY id`, blog)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	defer func() { _ = rows.Close() }()
	var out []eventRow
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.id, &r.severity, &r.checkType, &r.state, &r.startedAt, &r.endedAt,
			&r.resolution, &r.metadata, &r.updatedAt); err != nil {
			t.Fatalf("scan event: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read events: %v", err)
	}
	return out
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
