package deliverer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// fannedOut fans downTransition out to webhook 1 and returns its job.
func fannedOut(t *testing.T, w *world) Job {
	t.Helper()
	w.store.hooks[1] = uptime.Webhook{ID: 1, Active: true, URL: "https://receiver.example"}
	m, _ := message(ConsumerFanOut, encode(t, downTransition()), 1)
	w.d.fanOut(t.Context(), m)
	for _, j := range w.jobs.all() {
		if j.Kind == uptime.DeliveryWebhook {
			return j
		}
	}
	t.Fatal("no webhook job")
	return Job{}
}

func dispatchJob(t *testing.T, w *world, j Job) (string, time.Duration, string) {
	t.Helper()
	m, s := message(string(j.Kind), encode(t, j), 1)
	w.d.dispatch(t.Context(), j.Kind, m)
	return s.get()
}

func TestDispatchDelivers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	j := fannedOut(t, w)
	w.clock.advance(300 * time.Millisecond)
	if how, _, _ := dispatchJob(t, w, j); how != "ack" {
		t.Fatalf("settled %q, want ack", how)
	}
	r := w.store.row(t, j.DeliveryID)
	if r.Status != uptime.DeliveryDelivered || r.Attempt != 1 || r.LastStatusCode != 200 || r.ClaimedBy != "" {
		t.Errorf("row = %+v", r)
	}
	if got := w.store.outcomes(j.DeliveryID); !slices.Equal(got, []string{OutcomeDelivered}) {
		t.Errorf("attempts = %q", got)
	}
	if n, sum := histogram(t, w, "webhook"); n != 1 || sum < 0.299 || sum > 0.301 {
		t.Errorf("latency histogram of webhook: %d samples summing %v, want 1 of 0.3 s", n, sum)
	}
	// A delivered row is never sent again, whoever picks a job up.
	if how, _, _ := dispatchJob(t, w, j); how != "ack" || w.sender.count() != 1 {
		t.Errorf("second job settled %q after %d sends, want ack after 1", how, w.sender.count())
	}
}

func TestDispatchRetriesOnScheduleThenAbandons(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	fail := sendResult{res: uptime.SendResult{StatusCode: 500, Response: "boom"}, err: errors.New("status 500")}
	w.sender.results = []sendResult{fail}
	j := fannedOut(t, w)
	steps := []struct {
		wait  time.Duration // clock advance before the job arrives
		how   string
		delay time.Duration
		sends int
	}{
		{0, "nak", time.Minute, 1},
		{30 * time.Second, "nak", 30 * time.Second, 1}, // early: waits out the rest, sends nothing
		{30 * time.Second, "nak", 5 * time.Minute, 2},
		{5 * time.Minute, "term", 0, 3},
		{time.Hour, "ack", 0, 3}, // abandoned: never sent again
	}
	for i, st := range steps {
		w.clock.advance(st.wait)
		how, delay, _ := dispatchJob(t, w, j)
		if how != st.how || delay != st.delay || w.sender.count() != st.sends {
			t.Fatalf("step %d: %s after %v with %d sends, want %s after %v with %d", i, how, delay,
				w.sender.count(), st.how, st.delay, st.sends)
		}
	}
	r := w.store.row(t, j.DeliveryID)
	if r.Status != uptime.DeliveryAbandoned || r.Attempt != 3 || r.LastStatusCode != 500 || r.LastResponse != "boom" {
		t.Errorf("row = %+v", r)
	}
	if got := w.store.outcomes(j.DeliveryID); !slices.Equal(got, []string{OutcomeRetry, OutcomeRetry, OutcomeAbandoned}) {
		t.Errorf("attempts = %q", got)
	}
	if got := testutil.ToFloat64(w.d.m.abandoned.WithLabelValues("webhook")); got != 1 {
		t.Errorf("abandoned = %v", got)
	}
}

func TestDispatchErrorClasses(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		result      sendResult
		prepare     func(w *world)
		how         string
		delay       time.Duration
		status      uptime.DeliveryStatus
		attempt     int
		outcome     string
		lastContain string
	}{
		"permanent error abandons at once": {
			result: sendResult{err: &uptime.PermanentError{Err: errors.New("bad url")}},
			how:    "term", status: uptime.DeliveryAbandoned, attempt: 1, outcome: OutcomeAbandoned,
			lastContain: "transport: permanent: bad url",
		},
		"deferred uses no attempt": {
			result: sendResult{err: &uptime.DeferredError{RetryAfter: 42 * time.Second, Reason: "breaker open"}},
			how:    "nak", delay: 42 * time.Second, status: uptime.DeliveryPending, attempt: 0, outcome: OutcomeDeferred,
		},
		"inactive webhook is abandoned unsent": {
			prepare: func(w *world) { w.store.hooks[1] = uptime.Webhook{ID: 1} },
			how:     "term", status: uptime.DeliveryAbandoned, attempt: 1, outcome: OutcomeAbandoned,
			lastContain: "webhook 1 is inactive",
		},
		"deleted webhook is abandoned unsent": {
			prepare: func(w *world) { delete(w.store.hooks, 1) },
			how:     "term", status: uptime.DeliveryAbandoned, attempt: 1, outcome: OutcomeAbandoned,
			lastContain: "webhook 1 no longer exists",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, nil)
			w.sender.results = []sendResult{tc.result}
			j := fannedOut(t, w)
			if tc.prepare != nil {
				tc.prepare(w)
			}
			how, delay, _ := dispatchJob(t, w, j)
			r := w.store.row(t, j.DeliveryID)
			if how != tc.how || delay != tc.delay || r.Status != tc.status || r.Attempt != tc.attempt {
				t.Errorf("%s after %v, row %s attempt %d; want %s after %v, %s attempt %d",
					how, delay, r.Status, r.Attempt, tc.how, tc.delay, tc.status, tc.attempt)
			}
			if got := w.store.outcomes(j.DeliveryID); !slices.Equal(got, []string{tc.outcome}) {
				t.Errorf("attempts = %q, want [%s]", got, tc.outcome)
			}
			if !strings.Contains(r.LastResponse, tc.lastContain) {
				t.Errorf("last response %q, want it to contain %q", r.LastResponse, tc.lastContain)
			}
		})
	}
}

// TestDispatchStoreErrorBeforeTheSend: a destination that cannot be loaded
// releases the claimed delivery unsent, with its attempt given back, and
// the job waits longer the more often it was delivered (so a MySQL outage
// does not run it out of deliveries within minutes).
func TestDispatchStoreErrorBeforeTheSend(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	j := fannedOut(t, w)
	w.store.lookupErr = errors.New("mysql gone")
	for _, delivered := range []int{1, 5} {
		m, s := message(ConsumerWebhook, encode(t, j), delivered)
		w.d.dispatch(t.Context(), uptime.DeliveryWebhook, m)
		how, delay, _ := s.get()
		r := w.store.row(t, j.DeliveryID)
		want := storeRetryDelay(delivered)
		if how != "nak" || delay != want || r.Attempt != 0 || r.Status != uptime.DeliveryPending ||
			r.ClaimedBy != "" || w.sender.count() != 0 {
			t.Errorf("delivery %d: %s after %v, row %s at attempt %d claimed by %q, %d sends; "+
				"want a nak after %v, released unsent", delivered, how, delay, r.Status, r.Attempt, r.ClaimedBy,
				w.sender.count(), want)
		}
		w.clock.advance(want)
	}
}

func TestDispatchClaims(t *testing.T) {
	t.Parallel()
	t.Run("a lease held elsewhere waits it out", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		j := fannedOut(t, w)
		w.store.rows[j.DeliveryID].ClaimedBy = "d2"
		w.store.rows[j.DeliveryID].ClaimUntil = fixtureTime.Add(90 * time.Second)
		if how, delay, _ := dispatchJob(t, w, j); how != "nak" || delay != 90*time.Second || w.sender.count() != 0 {
			t.Errorf("%s after %v with %d sends, want nak after 90s unsent", how, delay, w.sender.count())
		}
	})
	t.Run("a job superseded by a manual retry is dropped", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		j := fannedOut(t, w)
		w.store.rows[j.DeliveryID].Generation = 1
		if how, _, _ := dispatchJob(t, w, j); how != "ack" || w.sender.count() != 0 {
			t.Errorf("%s with %d sends, want ack unsent", how, w.sender.count())
		}
	})
	t.Run("a job without a row is dead-lettered", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		how, _, reason := dispatchJob(t, w, Job{DeliveryID: 99, Kind: uptime.DeliveryWebhook})
		if how != "term" || !strings.Contains(reason, "does not exist") || len(w.store.dead) != 1 {
			t.Errorf("%s %q, dead letters %d", how, reason, len(w.store.dead))
		}
	})
	t.Run("a job on the wrong queue is malformed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		j := fannedOut(t, w)
		m, s := message(ConsumerAlert, encode(t, j), 1)
		w.d.dispatch(t.Context(), uptime.DeliveryAlert, m)
		if how, _, _ := s.get(); how != "term" || testutil.ToFloat64(w.d.m.malformed.WithLabelValues(ConsumerAlert)) != 1 {
			t.Errorf("settled %q", how)
		}
	})
}

func TestDispatchAlertRateCap(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(o *Opts) { o.WPCOM = nil })
	w.store.contacts[3] = uptime.AlertContact{ID: 3, Active: true, MinSeverity: uptime.SeverityWarning,
		Transport: uptime.TransportEmail, MaxPerHour: 2, Destination: map[string]string{"address": "a@example.com"}}
	for i, tm := range []TransitionMessage{openTransition(), downTransition(), recoveryTransition()} {
		m, _ := message(ConsumerFanOut, encode(t, tm), 1)
		w.d.fanOut(t.Context(), m)
		if n := len(w.jobs.all()); n != i+1 {
			t.Fatalf("%d jobs after %d transitions", n, i+1)
		}
	}
	var hows []string
	for _, j := range w.jobs.all() {
		how, _, _ := dispatchJob(t, w, j)
		hows = append(hows, how)
	}
	if !slices.Equal(hows, []string{"ack", "ack", "ack"}) || w.sender.count() != 2 {
		t.Errorf("settled %q after %d sends, want 3 acks after 2", hows, w.sender.count())
	}
	last := w.store.row(t, w.jobs.all()[2].DeliveryID)
	if last.Status != uptime.DeliveryAbandoned || last.LastStatusCode != 429 ||
		last.LastResponse != "rate-limited: contact 3 exceeded max_per_hour=2" {
		t.Errorf("third row = %+v", last)
	}
	if got := testutil.ToFloat64(w.d.m.attempts.WithLabelValues("alert", OutcomeRateLimited)); got != 1 {
		t.Errorf("rate_limited attempts = %v", got)
	}
	n, ok := w.sender.seen[1].(uptime.Notice)
	if !ok || n.EventType != "alert.state_changed" || n.DedupKey != "jetmon-event-77" || len(n.Votes) != 2 {
		t.Errorf("second notice = %+v", w.sender.seen[1])
	}
}

func TestDispatchWPCOM(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	m, _ := message(ConsumerFanOut, encode(t, downTransition()), 1)
	w.d.fanOut(t.Context(), m)
	jobs := w.jobs.all()
	if len(jobs) != 1 || jobs[0].Kind != uptime.DeliveryWPCOM {
		t.Fatalf("jobs = %+v", jobs)
	}
	if how, _, _ := dispatchJob(t, w, jobs[0]); how != "ack" {
		t.Fatalf("settled %q", how)
	}
	c, ok := w.sender.seen[0].(uptime.StatusChange)
	if !ok || c.StatusID != uptime.WPCOMStatusConfirmedDown || len(c.Checks) != 3 {
		t.Errorf("status change = %+v", w.sender.seen[0])
	}
}

func TestDispatchInterruptedSendIsReleased(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.sender.block = make(chan struct{})
	j := fannedOut(t, w)
	ctx, cancel := context.WithCancel(t.Context())
	m, s := message(ConsumerWebhook, encode(t, j), 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.d.dispatch(ctx, uptime.DeliveryWebhook, m)
	}()
	waitUntil(t, func() bool { return w.sender.count() == 1 })
	// The send outlives a quarter of SendTimeout: the server hears progress.
	waitUntil(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.progress >= 1
	})
	cancel()
	<-done
	how, delay, _ := s.get()
	r := w.store.row(t, j.DeliveryID)
	if how != "nak" || delay != 0 || r.Status != uptime.DeliveryPending || r.Attempt != 0 || r.ClaimedBy != "" {
		t.Errorf("%s after %v, row %+v; want an immediate nak and a released row with its attempt back", how, delay, r)
	}
}
