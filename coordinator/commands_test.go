package coordinator

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// call runs verb's handler with payload and returns its reply, or the
// reply error code.
func call(t *testing.T, f *fakes, verb, payload string) (map[string]any, string) {
	t.Helper()
	h := f.commands.handler(verb)
	if h == nil {
		t.Fatalf("%s is not served", verb)
	}
	data, err := h(t.Context(), []byte(payload))
	if err != nil {
		var coded interface{ Code() string }
		if !errors.As(err, &coded) {
			t.Fatalf("%s: %v has no code", verb, err)
		}
		return nil, coded.Code()
	}
	var reply map[string]any
	if err := json.Unmarshal(data, &reply); err != nil {
		t.Fatalf("%s reply %s: %v", verb, data, err)
	}
	return reply, ""
}

func TestEventCloseCommand(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		c, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		(&feed{f: f}).check(false)

		reply, code := call(t, f, verbEventClose, `{"blog_id":1,"note":"known outage","actor":"ops"}`)
		if code != "" || reply["closed"] != float64(1) {
			t.Fatalf("event.close = %v (code %q), want closed 1", reply, code)
		}
		changes := f.events.changes()
		closed := changes[len(changes)-1]
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

func TestSitePauseClosesEverything(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		_, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		fd := &feed{f: f}
		fd.check(false)
		// A certificate expiring in 5 days opens an advisory too.
		time.Sleep(time.Second)
		r := result(site1, false, time.Now())
		exp := time.Now().Add(5 * 24 * time.Hour)
		r.SSLExpiry, r.Region, r.Failures = &exp, proberRegion, 2
		f.results.deliver(Delivery{Seq: 2, Result: r})
		synctest.Wait()

		for _, verb := range []string{verbSitePause, verbSiteDelete} {
			reply, code := call(t, f, verb, `{"blog_id":1}`)
			want := float64(2)
			if verb == verbSiteDelete {
				want = 0
			}
			if code != "" || reply["closed"] != want {
				t.Errorf("%s = %v (code %q), want closed %v", verb, reply, code, want)
			}
		}
		got := reasons(f.events.changes())
		if want := []string{"open:opened", "open:opened", "close:manual_override", "close:manual_override"}; !slices.Equal(got, want) {
			t.Errorf("changes = %v, want %v", got, want)
		}
	})
}

func TestSiteTriggerCommand(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.prober.result = uptime.Result{BlogID: site1, URL: "https://one", Success: true, HTTPCode: 200}
		_, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		(&feed{f: f}).check(false)
		time.Sleep(time.Second) // the trigger's check is newer than the failure

		reply, code := call(t, f, verbSiteTrigger, `{"blog_id":1}`)
		if code != "" || reply["closed"] != float64(1) || reply["node_id"] != proberNode {
			t.Fatalf("site.trigger = %v (code %q), want closed 1 by %s", reply, code, proberNode)
		}
		res, _ := reply["result"].(map[string]any)
		if res["http_code"] != float64(200) || res["success"] != true || res["status_type"] != "success" {
			t.Errorf("result %v, want the check in check-report names", res)
		}
		got := reasons(f.events.changes())
		if want := []string{"open:opened", "close:probe_cleared"}; !slices.Equal(got, want) {
			t.Errorf("changes = %v, want %v", got, want)
		}
		if calls := f.prober.calls; len(calls) != 1 || calls[0].spec.URL != "https://one" {
			t.Errorf("prober calls %+v, want one check of site 1", calls)
		}

		f.prober.err = errBoom
		for payload, want := range map[string]string{`{"blog_id":1}`: codeUnavailable,
			`{"blog_id":99}`: codeNotFound, `[]`: codeBadRequest} {
			if _, code := call(t, f, verbSiteTrigger, payload); code != want {
				t.Errorf("site.trigger %s: code %q, want %q", payload, code, want)
			}
		}
	})
}

// A failed trigger changes nothing (trigger-now never opens).
func TestSiteTriggerFailureChangesNothing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.prober.result = uptime.Result{BlogID: site1, URL: "https://one", HTTPCode: 503}
		_, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		reply, code := call(t, f, verbSiteTrigger, `{"blog_id":1}`)
		if code != "" || reply["closed"] != float64(0) {
			t.Fatalf("site.trigger = %v (code %q), want closed 0", reply, code)
		}
		if n := len(f.events.changes()); n != 0 {
			t.Errorf("changes = %d, want none", n)
		}
	})
}

func TestRelayPublishesAndDeletes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		// A crashed leader left two rows behind.
		f.events.outbox = []OutboxRow{{ID: 1, TransitionID: 11}, {ID: 2, TransitionID: 12}}
		f.events.nextID = 20
		f.publisher.fail.Store(true)
		c, stop := startLeader(t, f, nil, "b")
		defer func() { _ = stop() }()
		if got := f.events.outboxLen(); got != 2 {
			t.Fatalf("outbox = %d rows while publishing fails, want 2 kept", got)
		}
		if got := testutil.ToFloat64(c.m.outboxPending); got != 2 {
			t.Errorf("outbox pending = %v, want 2", got)
		}
		f.publisher.fail.Store(false)
		advance(relayInterval)
		if got := f.publisher.ids(); !slices.Equal(got, []int64{11, 12}) {
			t.Errorf("published %v, want the leftovers in order", got)
		}
		(&feed{f: f}).check(false) // a commit with a transition wakes the relay
		if got := f.publisher.ids(); !slices.Equal(got, []int64{11, 12, 21}) {
			t.Errorf("published %v, want the new transition at once", got)
		}
		if got := f.events.outboxLen(); got != 0 {
			t.Errorf("outbox = %d rows, want every published row deleted", got)
		}
		if got := testutil.ToFloat64(c.m.outboxPending); got != 0 {
			t.Errorf("outbox pending = %v, want 0", got)
		}
	})
}

func TestDriftGauge(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.drift.n.Store(3)
		c, stop := startLeader(t, f, func(o *Opts) { o.DriftInterval = time.Minute })
		defer func() { _ = stop() }()
		if got := testutil.ToFloat64(c.m.drift); got != 3 {
			t.Errorf("drift = %v at term start, want 3", got)
		}
		f.drift.n.Store(0)
		advance(time.Minute)
		if got := testutil.ToFloat64(c.m.drift); got != 0 || f.drift.calls.Load() != 2 {
			t.Errorf("drift = %v after %d counts, want 0 after 2", got, f.drift.calls.Load())
		}
	})
}
