package eventstore_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// sec is t as the DATETIME columns of jetpack_monitor_sites hold it.
func sec(t time.Time) sql.NullTime { return sql.NullTime{Time: t.Truncate(time.Second), Valid: true} }

func TestProjectionFollowsTheHTTPEvent(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	steps := []struct {
		name       string
		change     uptime.Change
		wantStatus int
		wantChange time.Time
	}{
		{"Seems Down opens", openHTTP(1, at(0)), 0, at(0)},
		{"Down is confirmed", promote(1, at(65)), 2, at(65)},
		{"the site is back", closeHTTP(1, uptime.ReasonVerifierCleared, at(130)), 1, at(130)},
	}
	for _, st := range steps {
		apply(t, s, st.change)
		got := readSite(t, db, 1)
		if got.status != st.wantStatus || got.lastChange != sec(st.wantChange) {
			t.Errorf("%s: site_status %d, last_status_change %v, want %d, %v",
				st.name, got.status, got.lastChange, st.wantStatus, st.wantChange)
		}
		if !got.updatedAt.Equal(past) {
			t.Errorf("%s: updated_at moved to %v", st.name, got.updatedAt)
		}
	}
}

func TestProjectionRunningOnlyWithoutOpenHTTPEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		setup      func(t *testing.T, db *sql.DB, s *eventstore.Store)
		closing    []uptime.Change
		wantStatus int
		wantChange time.Time
	}{
		{name: "an open HTTP event of an endpoint remains",
			setup: func(t *testing.T, db *sql.DB, s *eventstore.Store) {
				_, err := db.ExecContext(t.Context(), `INSERT INTO jetmon_events
					(blog_id, endpoint_id, check_type, severity, state, started_at) VALUES (1, 7, 'http', 4, 'Down', ?)`, at(0))
				if err != nil {
					t.Fatalf("insert endpoint event: %v", err)
				}
				apply(t, s, openHTTP(1, at(1)))
			},
			closing:    []uptime.Change{closeHTTP(1, uptime.ReasonProbeCleared, at(2))},
			wantStatus: 2, wantChange: at(1)},
		{name: "the identity reopens in the same batch",
			setup:      func(t *testing.T, _ *sql.DB, s *eventstore.Store) { apply(t, s, openHTTP(1, at(1))) },
			closing:    []uptime.Change{closeHTTP(1, uptime.ReasonProbeCleared, at(2)), openHTTP(1, at(3))},
			wantStatus: 0, wantChange: at(1)},
		{name: "only an advisory remains",
			setup: func(t *testing.T, _ *sql.DB, s *eventstore.Store) {
				apply(t, s, openHTTP(1, at(1)),
					tlsExpiry(uptime.OpOpen, 1, uptime.SeverityDegraded, uptime.ReasonOpened, 3, at(1)))
			},
			closing:    []uptime.Change{closeHTTP(1, uptime.ReasonManualOverride, at(2))},
			wantStatus: 1, wantChange: at(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: true})
			tt.setup(t, db, s)
			apply(t, s, tt.closing...)
			got := readSite(t, db, 1)
			if got.status != tt.wantStatus || got.lastChange != sec(tt.wantChange) {
				t.Errorf("site_status %d, last_status_change %v, want %d, %v",
					got.status, got.lastChange, tt.wantStatus, tt.wantChange)
			}
		})
	}
}

func TestProjectionUntouched(t *testing.T) {
	t.Parallel()
	deprecated := change(uptime.OpOpen, 1, uptime.CheckTypeTLSDeprecated, uptime.SeverityWarning, uptime.StateWarning,
		uptime.ReasonOpened, at(0))
	tests := []struct {
		name        string
		projection  bool
		startStatus int
		changes     []uptime.Change
		wantStatus  int
	}{
		{name: "advisories are never projected", projection: true, startStatus: 1, wantStatus: 1,
			changes: []uptime.Change{deprecated,
				tlsExpiry(uptime.OpOpen, 1, uptime.SeverityDegraded, uptime.ReasonOpened, 2, at(0))}},
		{name: "projection disabled", projection: false, startStatus: 1, wantStatus: 1,
			changes: []uptime.Change{openHTTP(1, at(0)), promote(1, at(1))}},
		{name: "the value is already current", projection: true, startStatus: 0, wantStatus: 0,
			changes: []uptime.Change{openHTTP(1, at(0))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: tt.projection})
			_, err := db.ExecContext(t.Context(),
				"UPDATE jetpack_monitor_sites SET site_status = ?, updated_at = ? WHERE blog_id = 1", tt.startStatus, past)
			if err != nil {
				t.Fatalf("set site_status: %v", err)
			}
			written := apply(t, s, tt.changes...)
			if len(written) != len(tt.changes) {
				t.Errorf("Apply wrote %d transitions, want %d: events are written either way", len(written), len(tt.changes))
			}
			got := readSite(t, db, 1)
			if got.status != tt.wantStatus || got.lastChange.Valid || !got.updatedAt.Equal(past) {
				t.Errorf("site = %+v, want site_status %d, no last_status_change, updated_at %v", got, tt.wantStatus, past)
			}
		})
	}
}

func TestLastAlertSentAt(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	steps := []struct {
		name string
		sent time.Time
		want sql.NullTime
	}{
		{"an alert was sent", at(90), sec(at(90))},
		{"a later alert", at(4000), sec(at(4000))},
		{"cleared", time.Time{}, sql.NullTime{}},
	}
	for _, st := range steps {
		if _, err := s.Apply(t.Context(), testEpoch, nil, nil, map[int64]time.Time{2: st.sent}); err != nil {
			t.Fatalf("%s: Apply: %v", st.name, err)
		}
		got := readSite(t, db, 2)
		if got.lastAlert != st.want || !got.updatedAt.Equal(past) {
			t.Errorf("%s: last_alert_sent_at %v, updated_at %v, want %v, %v", st.name, got.lastAlert, got.updatedAt, st.want, past)
		}
	}
	if got := readSite(t, db, 1); got.lastAlert.Valid {
		t.Errorf("site 1 last_alert_sent_at = %v, want untouched", got.lastAlert)
	}
}
