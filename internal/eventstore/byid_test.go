package eventstore_test

import (
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// closeByID is an operator close of event id (the REST API's close by
// event id): the change carries the id it expects to close.
func closeByID(blog, id int64, when time.Time) uptime.Change {
	c := closeHTTP(blog, uptime.ReasonManualOverride, when)
	c.Event.ID = id
	c.Transition.Source = "operator:api"
	c.Transition.Metadata = map[string]any{"note": "closed via API"}
	return c
}

// A close naming an event by id closes only that event, and the legacy
// projection returns to running in the same transaction.
func TestCloseByEventID(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, openHTTP(1, at(0)))
	first := readEvents(t, db, 1)[0].id
	if got := readSite(t, db, 1).status; got != 0 {
		t.Fatalf("site_status = %d with a Seems Down open, want 0", got)
	}

	before := counts(t, db)
	if written := apply(t, s, closeByID(1, first+100, at(1))); len(written) != 0 {
		t.Errorf("a close naming another event wrote %+v", written)
	}
	if got := counts(t, db); got != before {
		t.Errorf("rows %+v after a close naming another event, want %+v", got, before)
	}
	if got := readSite(t, db, 1).status; got != 0 {
		t.Errorf("site_status = %d after a no-op close, want 0", got)
	}

	written := apply(t, s, closeByID(1, first, at(2)))
	if len(written) != 1 || written[0].EventID != first || written[0].Reason != uptime.ReasonManualOverride {
		t.Fatalf("close of event %d wrote %+v, want its manual_override", first, written)
	}
	site := readSite(t, db, 1)
	if site.status != 1 || !site.lastChange.Valid || !site.lastChange.Time.Equal(at(2).Truncate(time.Second)) ||
		!site.updatedAt.Equal(past) {
		t.Errorf("site after the close = %+v, want running since %v with updated_at kept", site, at(2))
	}
	if got := counts(t, db); got.transitions != before.transitions+1 || got.outbox != before.outbox+1 {
		t.Errorf("rows %+v after the close, want one more transition and outbox row than %+v", got, before)
	}

	// The event closed and a new one of the same identity opened: a late
	// close of the old id must leave the new one open.
	apply(t, s, openHTTP(1, at(3)))
	before = counts(t, db)
	apply(t, s, closeByID(1, first, at(4)))
	events := readEvents(t, db, 1)
	if got := counts(t, db); got != before || len(events) != 2 || events[1].endedAt.Valid {
		t.Errorf("rows %+v (want %+v), events %+v: want the newer event open", got, before, events)
	}
	if got := readSite(t, db, 1).status; got != 0 {
		t.Errorf("site_status = %d, want the newer Seems Down's 0", got)
	}
}

func TestEvent(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{})
	apply(t, s, openHTTP(1, at(0)), closeHTTP(1, uptime.ReasonProbeCleared, at(1)), openHTTP(1, at(2)))
	events := readEvents(t, db, 1)
	closed, open := events[0].id, events[1].id
	res, err := db.ExecContext(t.Context(), `INSERT INTO jetmon_events (blog_id, endpoint_id, check_type, severity,
		state, started_at) VALUES (1, 5, 'http', 3, 'Seems Down', ?)`, at(0))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		id        int64
		found     bool
		ended     time.Time
		reason    uptime.Reason
		startedAt time.Time
	}{
		"a closed event":                 {id: closed, found: true, ended: at(1), reason: uptime.ReasonProbeCleared, startedAt: at(0)},
		"the open event":                 {id: open, found: true, startedAt: at(2)},
		"no such event":                  {id: foreign + 1},
		"an endpoint's event (not ours)": {id: foreign},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev, found, err := s.Event(t.Context(), tt.id)
			if err != nil || found != tt.found {
				t.Fatalf("Event(%d) = %+v, %v, %v; want found %v", tt.id, ev, found, err, tt.found)
			}
			if !found {
				return
			}
			if ev.ID != tt.id || ev.BlogID != 1 || ev.CheckType != uptime.CheckTypeHTTP ||
				!ev.EndedAt.Equal(tt.ended.Truncate(time.Millisecond)) || ev.ResolutionReason != tt.reason ||
				!ev.StartedAt.Equal(tt.startedAt.Truncate(time.Millisecond)) || ev.State != uptime.StateSeemsDown {
				t.Errorf("Event(%d) = %+v, want ended %v (%q), started %v", tt.id, ev, tt.ended, tt.reason, tt.startedAt)
			}
		})
	}
}
