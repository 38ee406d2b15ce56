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

// A command that reaches a term's handlers after the term ended (the lease
// was lost meanwhile) is unavailable, never a failure of the command: the
// caller asks again and reaches the next leader.
func TestCommandsAfterTermEndAreUnavailable(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakes()
		f.source.set(site1, 1, "https://one", true, t0)
		stop := startRun(t, newTestCoordinator(t, f, nil))
		defer func() { _ = stop() }()
		term := newTerm(1)
		f.elector.terms <- term
		synctest.Wait()
		verbs := []string{verbSiteSync, verbEventClose, verbSitePause, verbSiteDelete}
		handlers := make([]CommandHandler, len(verbs))
		for i, verb := range verbs {
			if handlers[i] = f.commands.handler(verb); handlers[i] == nil {
				t.Fatalf("%s is not served", verb)
			}
		}
		term.lose()
		synctest.Wait()
		for i, h := range handlers {
			_, err := h(t.Context(), []byte(`{"blog_id":1}`))
			var coded *commandError
			if !errors.As(err, &coded) || coded.Code() != codeUnavailable {
				t.Errorf("%s after the term ended: %v, want code %q", verbs[i], err, codeUnavailable)
			}
		}
		if n := len(f.events.changes()); n != 0 {
			t.Errorf("%d changes after the term ended, want none", n)
		}
	})
}
