package coordinator

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// seemsDown starts a leader over fresh fakes (a veriflier in region b) and
// fails site 1 once, so that its HTTP Seems Down is open. The leader stops
// when the bubble's test ends.
func seemsDown(t *testing.T) (*Coordinator, *fakes, *feed) {
	t.Helper()
	f := newFakes()
	c, stop := startLeader(t, f, nil, "b")
	t.Cleanup(func() { _ = stop() })
	fd := &feed{f: f}
	fd.check(false)
	return c, f, fd
}

// lastChange is the newest committed change.
func lastChange(t *testing.T, f *fakes) uptime.Change {
	t.Helper()
	changes := f.events.changes()
	if len(changes) == 0 {
		t.Fatal("no change committed")
	}
	return changes[len(changes)-1]
}

func TestEventCloseCommand(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, f, _ := seemsDown(t)
		reply, code := call(t, f, verbEventClose, `{"blog_id":1,"note":"known outage","actor":"ops"}`)
		if code != "" || reply["closed"] != float64(1) {
			t.Fatalf("event.close = %v (code %q), want closed 1", reply, code)
		}
		closed := lastChange(t, f)
		if closed.Op != uptime.OpClose || closed.Transition.Reason != uptime.ReasonManualOverride ||
			closed.Transition.Source != "operator:ops" || closed.Transition.Metadata["note"] != "known outage" {
			t.Errorf("close change %+v, want manual_override by operator:ops with the note", closed)
		}
		if got := testutil.ToFloat64(c.m.openEvents.WithLabelValues(string(uptime.StateSeemsDown))); got != 0 {
			t.Errorf("open Seems Down = %v after the close", got)
		}

		tests := map[string]struct {
			payload, code string
			closed        float64
		}{
			"closing a closed event is a success": {payload: `{"blog_id":1,"check_type":"http"}`, closed: 0},
			"unknown blog":                        {payload: `{"blog_id":99}`, code: codeNotFound},
			"not JSON":                            {payload: `{`, code: codeBadRequest},
			"no blog":                             {payload: `{"check_type":"http"}`, code: codeBadRequest},
			"unknown reason":                      {payload: `{"blog_id":1,"reason":"because"}`, code: codeBadRequest},
		}
		for name, tt := range tests {
			reply, code := call(t, f, verbEventClose, tt.payload)
			if code != tt.code || (code == "" && reply["closed"] != tt.closed) {
				t.Errorf("%s: reply %v code %q, want code %q closed %v", name, reply, code, tt.code, tt.closed)
			}
		}
		if n := len(f.events.changes()); n != 2 {
			t.Errorf("changes = %d, want only the open and the close", n)
		}
	})
}

// event.close with an event_id (the REST API's close) closes exactly that
// event while it is the open event of its identity.
func TestEventCloseByID(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		_, f, fd := seemsDown(t)
		first, ok := f.events.openEvent(site1, uptime.CheckTypeHTTP)
		if !ok {
			t.Fatal("no Seems Down opened")
		}

		// Opened in this term, the event is known to the leader by identity
		// only: the close learns its id and carries it to the store.
		reply, code := call(t, f, verbEventClose,
			`{"blog_id":1,"event_id":101,"note":"closed via API","actor":"key-7"}`)
		if code != "" || reply["closed"] != float64(1) || reply["event_id"] != float64(first.ID) ||
			reply["already_closed"] != nil {
			t.Fatalf("event.close of %d = %v (code %q), want closed 1", first.ID, reply, code)
		}
		closed := lastChange(t, f)
		if closed.Op != uptime.OpClose || closed.Event.ID != first.ID || closed.Transition.Reason != uptime.ReasonManualOverride ||
			closed.Transition.Source != "operator:key-7" || closed.Transition.Metadata["note"] != "closed via API" {
			t.Errorf("close change %+v, want manual_override of event %d by operator:key-7 with the note", closed, first.ID)
		}

		reply, code = call(t, f, verbEventClose, `{"blog_id":1,"event_id":101}`)
		if code != "" || reply["closed"] != float64(0) || reply["already_closed"] != true {
			t.Errorf("closing the closed event again = %v (code %q), want closed 0, already_closed", reply, code)
		}

		// The event closed and a new one of the same identity opened: a close
		// of the old id must not close the new one.
		fd.check(false)
		second, _ := f.events.openEvent(site1, uptime.CheckTypeHTTP)
		n := len(f.events.changes())
		reply, code = call(t, f, verbEventClose, `{"blog_id":1,"event_id":101}`)
		if code != "" || reply["already_closed"] != true || len(f.events.changes()) != n {
			t.Errorf("close of the old event = %v (code %q), %d changes; want already_closed and none",
				reply, code, len(f.events.changes())-n)
		}
		if ev, ok := f.events.openEvent(site1, uptime.CheckTypeHTTP); !ok || ev.ID != second.ID || second.ID == first.ID {
			t.Errorf("open event %+v, want the newer %d still open", ev, second.ID)
		}

		f.events.mu.Lock()
		f.events.all[55] = uptime.Event{ID: 55, BlogID: 2, CheckType: uptime.CheckTypeHTTP, State: uptime.StateDown}
		f.events.mu.Unlock()
		tests := map[string]struct{ payload, code string }{
			"no such event":            {payload: `{"blog_id":1,"event_id":999}`, code: codeNotFound},
			"another blog's event":     {payload: `{"blog_id":1,"event_id":55}`, code: codeNotFound},
			"check type of another":    {payload: `{"blog_id":1,"event_id":102,"check_type":"tls_expiry"}`, code: codeBadRequest},
			"a negative event id":      {payload: `{"blog_id":1,"event_id":-3}`, code: codeBadRequest},
			"an event id without blog": {payload: `{"event_id":102}`, code: codeBadRequest},
		}
		for name, tt := range tests {
			if reply, code := call(t, f, verbEventClose, tt.payload); code != tt.code {
				t.Errorf("%s: reply %v code %q, want %q", name, reply, code, tt.code)
			}
		}
		f.events.readErr.Store(true)
		if _, code := call(t, f, verbEventClose, `{"blog_id":1,"event_id":102}`); code != codeUnavailable {
			t.Errorf("close while the event cannot be read: code %q, want %q", code, codeUnavailable)
		}
		f.events.readErr.Store(false)
		if len(f.events.changes()) != n {
			t.Errorf("the refused closes committed %d changes", len(f.events.changes())-n)
		}

		reply, code = call(t, f, verbEventClose, `{"blog_id":1,"event_id":102,"check_type":"http"}`)
		if code != "" || reply["closed"] != float64(1) || lastChange(t, f).Event.ID != second.ID {
			t.Errorf("close of the open event = %v (code %q), want closed 1", reply, code)
		}
	})
}

// A restored event carries its id; a coordinator without an event reader
// refuses closes by id rather than guessing.
func TestEventCloseByIDRestoredAndUnwired(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.events.open[identity(site1, uptime.CheckTypeHTTP)] = uptime.Event{ID: 7, BlogID: site1,
			CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown, State: uptime.StateDown,
			StartedAt: time.Now().Add(-time.Hour)}
		_, stop := startLeader(t, f, func(o *Opts) { o.Events = nil }, "b")
		defer func() { _ = stop() }()
		if _, code := call(t, f, verbEventClose, `{"blog_id":1,"event_id":7}`); code != codeUnavailable {
			t.Errorf("close by id without an event reader: code %q, want %q", code, codeUnavailable)
		}
		if n := len(f.events.changes()); n != 0 || f.events.reads.Load() != 0 {
			t.Errorf("%d changes, %d reads; want none", n, f.events.reads.Load())
		}
		reply, code := call(t, f, verbEventClose, `{"blog_id":1,"check_type":"http"}`)
		if code != "" || reply["closed"] != float64(1) || lastChange(t, f).Event.ID != 7 {
			t.Errorf("close by check type = %v (code %q), want the restored event 7 closed", reply, code)
		}
	})
}

// site.pause and site.delete close every open event, advisories too; a
// second one finds nothing open.
func TestSitePauseClosesEverything(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		_, f, _ := seemsDown(t)
		// A certificate expiring in 5 days opens an advisory too.
		time.Sleep(time.Second)
		r := result(site1, false, time.Now())
		exp := time.Now().Add(5 * 24 * time.Hour)
		r.SSLExpiry, r.Region, r.Failures = &exp, proberRegion, 2
		f.results.deliver(Delivery{Seq: 2, Result: r})
		synctest.Wait()

		for _, step := range []struct {
			verb   string
			closed float64
		}{{verbSitePause, 2}, {verbSiteDelete, 0}} {
			if reply, code := call(t, f, step.verb, `{"blog_id":1}`); code != "" || reply["closed"] != step.closed {
				t.Errorf("%s = %v (code %q), want closed %v", step.verb, reply, code, step.closed)
			}
		}
		got := reasons(f.events.changes())
		if want := []string{"open:opened", "open:opened", "close:manual_override", "close:manual_override"}; !slices.Equal(got, want) {
			t.Errorf("changes = %v, want %v", got, want)
		}
	})
}

// site.pause and site.delete close every open event with the API's note and
// actor, and results in flight do not reopen an incident: for pauseGrace
// the site's row counts as inactive, and later results decide nothing while
// the row is inactive.
func TestSitePauseIgnoresResultsInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		_, f, fd := seemsDown(t)
		reply, code := call(t, f, verbSitePause, `{"blog_id":1,"note":"site paused via API","actor":"key-7"}`)
		if code != "" || reply["closed"] != float64(1) {
			t.Fatalf("site.pause = %v (code %q), want closed 1", reply, code)
		}
		closed := lastChange(t, f)
		if closed.Transition.Reason != uptime.ReasonManualOverride || closed.Transition.Source != "operator:key-7" ||
			closed.Transition.Metadata["note"] != "site paused via API" {
			t.Errorf("pause close %+v, want manual_override by operator:key-7 with the API's note", closed.Transition)
		}
		// The prober's failures in flight (the row is still active: the API
		// deactivates it after the pause).
		fd.check(false)
		fd.check(false)
		if got := reasons(f.events.changes()); len(got) != 2 {
			t.Fatalf("changes = %v after results in flight, want only the open and the pause's close", got)
		}

		// The API deactivated the row; a late result after the grace.
		f.source.set(site1, 1, "https://one", false, time.Now())
		time.Sleep(pauseGrace)
		fd.check(false)
		if got := reasons(f.events.changes()); len(got) != 2 {
			t.Fatalf("changes = %v after a result of the inactive site, want none more", got)
		}

		// Resumed: the site is watched again.
		f.source.set(site1, 1, "https://one", true, time.Now())
		fd.check(false)
		want := []string{"open:opened", "close:manual_override", "open:opened"}
		if got := reasons(f.events.changes()); !slices.Equal(got, want) {
			t.Errorf("changes = %v, want %v", got, want)
		}

		reply, code = call(t, f, verbSiteDelete, `{"blog_id":1}`)
		if code != "" || reply["closed"] != float64(1) || lastChange(t, f).Transition.Metadata["note"] != noteDeleted ||
			lastChange(t, f).Transition.Source != "operator" {
			t.Errorf("site.delete = %v (code %q), last change %+v; want closed 1 by operator with note %q",
				reply, code, lastChange(t, f).Transition, noteDeleted)
		}
	})
}

// A pause of a site with nothing open still ignores its results in flight,
// and only for pauseGrace: a site whose row stayed active (the caller never
// deactivated it) is watched again.
func TestSitePauseWithNothingOpen(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		_, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		reply, code := call(t, f, verbSitePause, `{"blog_id":1}`)
		if code != "" || reply["closed"] != float64(0) {
			t.Fatalf("site.pause = %v (code %q), want closed 0", reply, code)
		}
		fd := &feed{f: f}
		fd.check(false)
		if n := len(f.events.changes()); n != 0 {
			t.Errorf("%d changes after a failure in flight, want none", n)
		}
		time.Sleep(pauseGrace)
		fd.check(false)
		if got := reasons(f.events.changes()); !slices.Equal(got, []string{"open:opened"}) {
			t.Errorf("changes = %v after the grace with the row active, want the open", got)
		}
		if _, code := call(t, f, verbSitePause, `{"blog_id":99}`); code != codeNotFound {
			t.Errorf("site.pause of an unknown blog: code %q, want %q", code, codeNotFound)
		}
	})
}

// A site whose row is read inactive or absent decides nothing, even with
// an open event: a row deactivated without site.pause keeps its events.
func TestInactiveRowDecidesNothing(t *testing.T) {
	t.Parallel()
	tests := map[string]func(f *fakes){
		"inactive": func(f *fakes) { f.source.set(site1, 1, "https://one", false, time.Now()) },
		"absent": func(f *fakes) {
			f.source.mu.Lock()
			delete(f.source.rows, site1)
			f.source.mu.Unlock()
		},
	}
	for name, deactivate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				_, f, fd := seemsDown(t)
				deactivate(f)
				time.Sleep(siteRefresh) // the tracked site's row is read again
				fd.check(true)
				if got := reasons(f.events.changes()); !slices.Equal(got, []string{"open:opened"}) {
					t.Errorf("changes = %v, want the open only", got)
				}
			})
		})
	}
}
