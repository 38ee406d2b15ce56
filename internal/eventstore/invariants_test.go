package eventstore_test

// The eight invariants of reference/jetmon-core-spec.md §3.1, one test each.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// failingPayload fails on its nth call.
func failingPayload(n int) func(eventstore.OutboxItem) ([]byte, error) {
	calls := 0
	return func(item eventstore.OutboxItem) ([]byte, error) {
		calls++
		if calls == n {
			return nil, errors.New("encoder broke")
		}
		return jsonPayload(item)
	}
}

// commitBatch commits an ingest batch whose transaction applies changes
// and then runs after.
func commitBatch(ctx context.Context, db *sql.DB, s *eventstore.Store, changes []uptime.Change, after error) error {
	in, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{})
	if err != nil {
		return err
	}
	b := sqlstore.IngestBatch{Consumer: "coordinator", FromSeq: 0, ToSeq: 1,
		LastChecked: map[int64]time.Time{1: at(0)}}
	return in.CommitWith(ctx, testEpoch, b, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.ApplyTx(ctx, tx, changes, nil, nil); err != nil {
			return err
		}
		return after
	})
}

// Invariant 1: the event write and the projection commit together or not at all.
func TestInvariant1EventAndProjectionAtomic(t *testing.T) {
	t.Parallel()
	errLater := errors.New("a later write of the batch failed")
	tests := []struct {
		name          string
		payload       func(eventstore.OutboxItem) ([]byte, error)
		run           func(ctx context.Context, db *sql.DB, s *eventstore.Store) error
		wantErr       string // "": committed
		wantCommitted bool
	}{
		{name: "a command commits both",
			run: func(ctx context.Context, _ *sql.DB, s *eventstore.Store) error {
				_, err := s.Apply(ctx, testEpoch, []uptime.Change{openHTTP(1, at(0))}, nil, nil)
				return err
			}, wantCommitted: true},
		{name: "an ingest batch commits both",
			run: func(ctx context.Context, db *sql.DB, s *eventstore.Store) error {
				return commitBatch(ctx, db, s, []uptime.Change{openHTTP(1, at(0))}, nil)
			}, wantCommitted: true},
		{name: "a later change of the command fails",
			run: func(ctx context.Context, _ *sql.DB, s *eventstore.Store) error {
				_, err := s.Apply(ctx, testEpoch, []uptime.Change{openHTTP(1, at(0)), promote(2, at(1))}, nil, nil)
				return err
			}, wantErr: eventstore.ErrNoOpenEvent.Error()},
		{name: "the outbox payload of a later change fails", payload: failingPayload(2),
			run: func(ctx context.Context, _ *sql.DB, s *eventstore.Store) error {
				_, err := s.Apply(ctx, testEpoch, []uptime.Change{openHTTP(1, at(0)), openHTTP(2, at(0))}, nil, nil)
				return err
			}, wantErr: "encoder broke"},
		{name: "a later write of the ingest batch fails",
			run: func(ctx context.Context, db *sql.DB, s *eventstore.Store) error {
				return commitBatch(ctx, db, s, []uptime.Change{openHTTP(1, at(0))}, errLater)
			}, wantErr: errLater.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: true, Payload: tt.payload})
			err := tt.run(t.Context(), db, s)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("run = %v, want an error containing %q", err, tt.wantErr)
			}
			wantEvents, wantStatus := 0, 1
			if tt.wantCommitted {
				wantEvents, wantStatus = 1, 0
			}
			if got := counts(t, db); got.events != wantEvents || got.transitions != wantEvents || got.outbox != wantEvents {
				t.Errorf("rows = %+v, want %d event, transition and outbox row", got, wantEvents)
			}
			if got := readSite(t, db, 1); got.status != wantStatus || got.lastChange.Valid != tt.wantCommitted {
				t.Errorf("site 1 = %+v, want site_status %d, last_status_change set %v", got, wantStatus, tt.wantCommitted)
			}
		})
	}
}

// Invariant 2: every mutation writes exactly one transition (and one outbox
// row) in its transaction; a change that alters nothing writes nothing.
func TestInvariant2OneTransitionPerMutation(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	metaOnly := change(uptime.OpUpdate, 1, uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown,
		uptime.ReasonStateChange, at(3))
	metaOnly.Event.Metadata = map[string]any{"http_code": 502}
	steps := []struct {
		name   string
		change uptime.Change
		want   int // transitions written
	}{
		{"open", openHTTP(1, at(0)), 1},
		{"an update changing nothing", change(uptime.OpUpdate, 1, uptime.CheckTypeHTTP, uptime.SeveritySeemsDown,
			uptime.StateSeemsDown, uptime.ReasonStateChange, at(2)), 0},
		{"an update changing the metadata only", metaOnly, 1},
		{"a promotion", promote(1, at(4)), 1},
		{"the same promotion again", promote(1, at(5)), 0},
		{"close", closeHTTP(1, uptime.ReasonVerifierCleared, at(6)), 1},
		{"close again", closeHTTP(1, uptime.ReasonVerifierCleared, at(7)), 0},
	}
	total := 0
	for _, st := range steps {
		before := readEvents(t, db, 1)
		written := apply(t, s, st.change)
		total += st.want
		if len(written) != st.want {
			t.Errorf("%s: Apply returned %d transitions, want %d", st.name, len(written), st.want)
		}
		if got := counts(t, db); got.transitions != total || got.outbox != total {
			t.Errorf("%s: %d transitions and %d outbox rows, want %d each", st.name, got.transitions, got.outbox, total)
		}
		if after := readEvents(t, db, 1); st.want == 0 && !equalEvents(before, after) {
			t.Errorf("%s: a no-op changed the event:\n%+v\n%+v", st.name, before, after)
		}
	}
}

func equalEvents(a, b []eventRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Invariant 3: the same open applied twice leaves one event and one opened
// row. The store rejects the second open with ErrOpenExists (the state
// machine never emits it), which rolls its whole transaction back.
func TestInvariant3ReplayedOpenKeepsOneEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		batches [][]uptime.Change
	}{
		{name: "in a later transaction", batches: [][]uptime.Change{{openHTTP(1, at(0))}, {openHTTP(1, at(0))}}},
		{name: "in the same transaction", batches: [][]uptime.Change{{openHTTP(1, at(0))},
			{openHTTP(2, at(1)), openHTTP(1, at(0))}}},
		{name: "with other values", batches: [][]uptime.Change{{openHTTP(1, at(0))}, {openHTTP(1, at(9))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: true})
			apply(t, s, tt.batches[0]...)
			if _, err := s.Apply(t.Context(), testEpoch, tt.batches[1], nil, nil); !errors.Is(err, eventstore.ErrOpenExists) {
				t.Fatalf("replayed open: Apply = %v, want ErrOpenExists", err)
			}
			if got := counts(t, db); got != (tableCounts{events: 1, transitions: 1, outbox: 1}) {
				t.Errorf("rows = %+v, want one event, one transition, one outbox row", got)
			}
			tr := readTransitions(t, db, 1)
			if len(tr) != 1 || tr[0].reason != string(uptime.ReasonOpened) {
				t.Errorf("transitions = %+v, want one opened row", tr)
			}
			if ev := readEvents(t, db, 1); len(ev) != 1 || !ev[0].startedAt.Equal(at(0)) {
				t.Errorf("events = %+v, want the first open untouched", ev)
			}
		})
	}
}

// Invariant 4: a Seems Down the verifliers disagree with closes as
// false_alarm, with a false positive row naming the event.
func TestInvariant4FalseAlarmClose(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, openHTTP(1, at(0)))
	closing := closeHTTP(1, uptime.ReasonFalseAlarm, at(30))
	closing.Transition.Metadata = map[string]any{"verifier_quorum": 1, "verifier_disagreed": 2}
	fp := uptime.FalsePositive{BlogID: 1, HTTPCode: 503, ErrorCode: uptime.ErrorCode(3), RTT: 1200 * time.Millisecond, At: at(30)}
	written, err := s.Apply(t.Context(), testEpoch, []uptime.Change{closing}, []uptime.FalsePositive{fp}, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	ev := readEvents(t, db, 1)
	if len(ev) != 1 || ev[0].resolution != nullStr("false_alarm") || !ev[0].endedAt.Time.Equal(at(30)) {
		t.Fatalf("events = %+v, want one closed false_alarm at %v", ev, at(30))
	}
	want := transitionRow{id: written[0].ID, eventID: ev[0].id, sevBefore: nullInt(3),
		stateBefore: nullStr("Seems Down"), stateAfter: nullStr("Resolved"), reason: "false_alarm",
		source: "local", changedAt: at(30)}
	if tr := readTransitions(t, db, 1); len(tr) != 2 || tr[1] != want {
		t.Errorf("transitions = %+v, want the close %+v", tr, want)
	}
	var eventID sql.NullInt64
	var httpCode, errorCode, rtt int
	err = db.QueryRowContext(t.Context(), `SELECT event_id, http_code, error_code, rtt_ms
		FROM jetmon_false_positives WHERE blog_id = 1`).Scan(&eventID, &httpCode, &errorCode, &rtt)
	if err != nil {
		t.Fatalf("read false positive: %v", err)
	}
	if eventID != nullInt(ev[0].id) || httpCode != 503 || errorCode != 3 || rtt != 1200 {
		t.Errorf("false positive = event %v, %d, %d, %d ms, want event %d, 503, 3, 1200 ms",
			eventID, httpCode, errorCode, rtt, ev[0].id)
	}
	if got := readSite(t, db, 1); got.status != 1 {
		t.Errorf("site_status = %d after a false alarm, want 1", got.status)
	}
}

// Invariant 5: severity changes never create an event row, always a transition.
func TestInvariant5SeverityUpdatesKeepTheEvent(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, tlsExpiry(uptime.OpOpen, 2, uptime.SeverityWarning, uptime.ReasonOpened, 20, at(0)))
	apply(t, s, tlsExpiry(uptime.OpUpdate, 2, uptime.SeverityDegraded, uptime.ReasonSeverityEscalation, 6, at(1)),
		tlsExpiry(uptime.OpUpdate, 2, uptime.SeverityWarning, uptime.ReasonSeverityDeescalation, 9, at(2)))
	ev := readEvents(t, db, 2)
	if len(ev) != 1 || ev[0].severity != 1 || ev[0].state != "Warning" || ev[0].endedAt.Valid {
		t.Fatalf("events = %+v, want one open Warning event", ev)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(ev[0].metadata.String), &meta); err != nil || meta["days_until"] != 9.0 {
		t.Errorf("metadata = %q (%v), want the refreshed days_until 9", ev[0].metadata.String, err)
	}
	tr := readTransitions(t, db, 2)
	wantReasons := []string{"opened", "severity_escalation", "severity_deescalation"}
	if len(tr) != len(wantReasons) {
		t.Fatalf("transitions = %+v, want %v", tr, wantReasons)
	}
	for i, r := range tr {
		if r.reason != wantReasons[i] || r.eventID != ev[0].id {
			t.Errorf("transition %d = %s of event %d, want %s of event %d", i, r.reason, r.eventID, wantReasons[i], ev[0].id)
		}
	}
}

// Invariant 6: a closed event is never written again.
func TestInvariant6ClosedEventsNeverMutated(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, openHTTP(1, at(0)), promote(1, at(1)), closeHTTP(1, uptime.ReasonVerifierCleared, at(2)))
	closed := readEvents(t, db, 1)
	if _, err := s.Apply(t.Context(), testEpoch, []uptime.Change{promote(1, at(3))}, nil, nil); !errors.Is(err, eventstore.ErrNoOpenEvent) {
		t.Errorf("update of a closed identity: Apply = %v, want ErrNoOpenEvent", err)
	}
	if written := apply(t, s, closeHTTP(1, uptime.ReasonManualOverride, at(4))); len(written) != 0 {
		t.Errorf("closing a closed event wrote %+v, want an idempotent no-op", written)
	}
	apply(t, s, openHTTP(1, at(5)), promote(1, at(6)), closeHTTP(1, uptime.ReasonProbeCleared, at(7)))
	after := readEvents(t, db, 1)
	if len(after) != 2 || after[0] != closed[0] {
		t.Errorf("the closed event changed:\nbefore %+v\nafter  %+v", closed[0], after)
	}
}

// Invariant 7: once closed, the same identity opens a new event at once.
func TestInvariant7ReopenAfterClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		batches [][]uptime.Change
	}{
		{name: "in the same transaction", batches: [][]uptime.Change{
			{openHTTP(1, at(0)), closeHTTP(1, uptime.ReasonProbeCleared, at(1)), openHTTP(1, at(2))}}},
		{name: "in the next transaction", batches: [][]uptime.Change{
			{openHTTP(1, at(0)), closeHTTP(1, uptime.ReasonProbeCleared, at(1))}, {openHTTP(1, at(2))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: true})
			for _, b := range tt.batches {
				apply(t, s, b...)
			}
			ev := readEvents(t, db, 1)
			if len(ev) != 2 || !ev[0].endedAt.Valid || ev[1].endedAt.Valid || !ev[1].startedAt.Equal(at(2)) {
				t.Fatalf("events = %+v, want a closed one and a new open one started at %v", ev, at(2))
			}
			open, err := s.OpenEvents(t.Context())
			if err != nil || len(open) != 1 || open[0].ID != ev[1].id {
				t.Errorf("OpenEvents = %+v, %v, want event %d", open, err, ev[1].id)
			}
			if got := readSite(t, db, 1); got.status != 0 {
				t.Errorf("site_status = %d, want 0 for the new Seems Down", got.status)
			}
		})
	}
}

// replayed is an event's severity and state rebuilt from its transitions.
type replayed struct {
	severity int64
	state    string
	closed   bool
}

// Invariant 8: replaying transitions in (changed_at, id) order rebuilds every
// event's severity and state.
func TestInvariant8ReplayReconstructs(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, openHTTP(3, at(0)), tlsExpiry(uptime.OpOpen, 3, uptime.SeverityWarning, uptime.ReasonOpened, 25, at(0)))
	apply(t, s, promote(3, at(10)), tlsExpiry(uptime.OpUpdate, 3, uptime.SeverityDegraded, uptime.ReasonSeverityEscalation, 7, at(10)))
	apply(t, s, closeHTTP(3, uptime.ReasonVerifierCleared, at(20)), openHTTP(3, at(20)))
	apply(t, s, closeHTTP(3, uptime.ReasonFalseAlarm, at(30)), openHTTP(3, at(40)), promote(3, at(50)))

	rebuilt := map[int64]replayed{}
	for _, tr := range readTransitions(t, db, 3) {
		prev, seen := rebuilt[tr.eventID]
		switch {
		case !seen && (tr.reason != "opened" || tr.sevBefore.Valid || tr.stateBefore.Valid):
			t.Fatalf("event %d starts with %+v, want an opened row without before values", tr.eventID, tr)
		case seen && prev.closed:
			t.Fatalf("event %d has %+v after its close", tr.eventID, tr)
		case seen && (tr.sevBefore != nullInt(prev.severity) || tr.stateBefore != nullStr(prev.state)):
			t.Fatalf("event %d: %+v does not continue from %+v", tr.eventID, tr, prev)
		}
		next := replayed{severity: prev.severity, state: tr.stateAfter.String, closed: tr.stateAfter.String == "Resolved"}
		if !next.closed {
			next.severity = tr.sevAfter.Int64
		}
		rebuilt[tr.eventID] = next
	}
	events := readEvents(t, db, 3)
	if len(events) != 4 || len(rebuilt) != 4 {
		t.Fatalf("%d events and %d replayed, want 4", len(events), len(rebuilt))
	}
	for _, ev := range events {
		got := rebuilt[ev.id]
		want := replayed{severity: ev.severity, state: ev.state, closed: ev.endedAt.Valid}
		if want.closed {
			want.state = "Resolved"
		}
		if got != want {
			t.Errorf("event %d (%s): replayed %+v, table holds %+v", ev.id, ev.checkType, got, want)
		}
	}
}
