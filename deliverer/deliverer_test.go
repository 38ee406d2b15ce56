package deliverer

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The tests' codecs: plain JSON of the role's own structs.

func decodeTestTransition(b []byte) (TransitionMessage, error) {
	var m TransitionMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return TransitionMessage{}, err
	}
	if m.Transition.ID <= 0 {
		return TransitionMessage{}, errors.New("transition id missing")
	}
	return m, nil
}

func decodeTestJob(b []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return Job{}, err
	}
	if j.DeliveryID <= 0 {
		return Job{}, errors.New("delivery id missing")
	}
	return j, nil
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFanOutIsIdempotent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.store.hooks[1] = uptime.Webhook{ID: 1, Active: true}
	w.store.hooks[2] = uptime.Webhook{ID: 2, Active: true, States: []uptime.State{uptime.StateResolved}}
	w.store.contacts[3] = uptime.AlertContact{ID: 3, Active: true, MinSeverity: uptime.SeverityDown, Transport: uptime.TransportEmail}
	w.store.contacts[4] = uptime.AlertContact{ID: 4, Active: true, MinSeverity: uptime.SeverityDown, Transport: uptime.TransportEmail}
	data := encode(t, downTransition())

	for delivered := 1; delivered <= 2; delivered++ {
		m, s := message(ConsumerFanOut, data, delivered)
		w.d.fanOut(t.Context(), m)
		if how, _, _ := s.get(); how != "ack" {
			t.Fatalf("delivery %d settled %q, want ack", delivered, how)
		}
	}
	if n := len(w.store.rows); n != 4 {
		t.Fatalf("%d delivery rows, want 4 (webhook 1, alerts 3 and 4, wpcom)", n)
	}
	if jobs := w.jobs.all(); len(jobs) != 4 {
		t.Errorf("jobs = %+v, want one per row", jobs)
	}
	for _, r := range w.store.rows {
		if r.TransitionAt != fixtureTime || r.Status != uptime.DeliveryPending {
			t.Errorf("row %+v", r)
		}
		p, err := ParsePayload(r.Payload)
		if err != nil || p.Type != r.EventType {
			t.Errorf("row %d payload type %q, event type %q (%v)", r.ID, p.Type, r.EventType, err)
		}
		if r.Kind == uptime.DeliveryAlert && (r.Severity == nil || *r.Severity != uptime.SeverityDown) {
			t.Errorf("alert row severity %v", r.Severity)
		}
	}
	if got := testutil.ToFloat64(w.d.m.created.WithLabelValues("alert")); got != 2 {
		t.Errorf("created alert = %v, want 2 (the redelivery counts nothing)", got)
	}
}

// TestFanOutCountsWhatItStored: a fan-out whose jobs could not be published
// the first time counts its rows and suppressions once, when it writes
// them, and never again on the redelivery that publishes the jobs.
func TestFanOutCountsWhatItStored(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(o *Opts) { o.WPCOM = nil })
	w.store.hooks[1] = uptime.Webhook{ID: 1, Active: true}
	w.store.contacts[3] = uptime.AlertContact{ID: 3, Active: true, MinSeverity: uptime.SeverityDown}
	tm := downTransition()
	tm.Transition.Notify = uptime.Notification{Suppressed: "cooldown", Kind: notifyDown}
	w.jobs.err = errors.New("no stream")
	for delivered := 1; delivered <= 2; delivered++ {
		m, s := message(ConsumerFanOut, encode(t, tm), delivered)
		w.d.fanOut(t.Context(), m)
		if how, _, _ := s.get(); how != map[int]string{1: "nak", 2: "ack"}[delivered] {
			t.Fatalf("delivery %d settled %q", delivered, how)
		}
		w.jobs.err = nil
	}
	if got := testutil.ToFloat64(w.d.m.created.WithLabelValues("webhook")); got != 1 {
		t.Errorf("created webhook = %v, want 1", got)
	}
	if got := testutil.ToFloat64(w.d.m.suppressed.WithLabelValues("alert")); got != 1 {
		t.Errorf("suppressed alert = %v, want 1", got)
	}
}

func TestFanOutSuppressedWritesAuditsOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.store.contacts[3] = uptime.AlertContact{ID: 3, Active: true, MinSeverity: uptime.SeverityDown}
	tm := downTransition()
	tm.Transition.Notify = uptime.Notification{Suppressed: "maintenance", Kind: notifyDown}
	for delivered := 1; delivered <= 2; delivered++ {
		m, _ := message(ConsumerFanOut, encode(t, tm), delivered)
		w.d.fanOut(t.Context(), m)
	}
	if len(w.store.rows) != 0 {
		t.Errorf("suppressed transition created rows: %+v", w.store.rows)
	}
	var types []string
	for _, a := range w.store.audits {
		types = append(types, a.EventType)
	}
	if want := []string{AuditAlertSuppressed, AuditMaintenanceActive}; !slices.Equal(types, want) {
		t.Errorf("audits = %q, want %q", types, want)
	}
}

func TestFanOutFailures(t *testing.T) {
	t.Parallel()
	t.Run("malformed is dead-lettered, terminated and counted", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		m, s := message(ConsumerFanOut, []byte(`{"v":1`), 1)
		w.d.fanOut(t.Context(), m)
		if how, _, reason := s.get(); how != "term" || !strings.HasPrefix(reason, "malformed: ") {
			t.Errorf("settled %q %q, want term malformed", how, reason)
		}
		if len(w.store.dead) != 1 || testutil.ToFloat64(w.d.m.malformed.WithLabelValues(ConsumerFanOut)) != 1 {
			t.Errorf("dead letters %v, malformed counter %v", w.store.dead, testutil.ToFloat64(w.d.m.malformed))
		}
	})
	t.Run("a store error is retried later, with backoff", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		w.store.failNext = errors.New("mysql gone")
		m, s := message(ConsumerFanOut, encode(t, downTransition()), 3)
		w.d.fanOut(t.Context(), m)
		if how, delay, _ := s.get(); how != "nak" || delay != 8*time.Second {
			t.Errorf("settled %q after %v, want nak after 8s", how, delay)
		}
	})
	t.Run("a dead letter that cannot be recorded stays in the stream", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		w.store.failNext = errors.New("mysql gone")
		m, s := message(ConsumerFanOut, []byte(`nope`), 1)
		w.d.fanOut(t.Context(), m)
		if how, _, _ := s.get(); how != "nak" {
			t.Errorf("settled %q, want nak", how)
		}
	})
	t.Run("a failed job publish naks the transition", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, nil)
		w.store.hooks[1] = uptime.Webhook{ID: 1, Active: true}
		w.jobs.err = errors.New("no stream")
		m, s := message(ConsumerFanOut, encode(t, downTransition()), 1)
		w.d.fanOut(t.Context(), m)
		if how, _, _ := s.get(); how != "nak" {
			t.Errorf("settled %q, want nak", how)
		}
	})
}

func TestDeadLetters(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	j := fannedOut(t, w)
	dl := DeadLetter{Stream: "JETMON_DELIVERY", Consumer: ConsumerWebhook, Subject: "jetmon.deliver.webhook.1",
		StreamSeq: 12, Deliveries: 20, Data: encode(t, j), At: fixtureTime}
	for range 2 {
		if err := w.d.deadLetter(t.Context(), dl); err != nil {
			t.Fatal(err)
		}
	}
	r := w.store.row(t, j.DeliveryID)
	if r.Status != uptime.DeliveryAbandoned || r.LastResponse != "dead letter: 20 deliveries" {
		t.Errorf("row = %+v", r)
	}
	rec := w.store.dead["JETMON_DELIVERY/12"]
	if len(w.store.dead) != 1 || rec.DeliveryID != j.DeliveryID || rec.Reason != "max deliveries reached (20)" {
		t.Errorf("dead letters = %+v", w.store.dead)
	}
	if got := testutil.ToFloat64(w.d.m.deadLetters.WithLabelValues(ConsumerWebhook)); got != 1 {
		t.Errorf("dead letters counted %v, want 1", got)
	}
	w.store.failNext = errors.New("mysql gone")
	if err := w.d.deadLetter(t.Context(), DeadLetter{Stream: "JETMON_DELIVERY", StreamSeq: 13}); err == nil {
		t.Error("a dead letter that could not be recorded was accepted")
	}
}

func TestRunDrainsAndReportsBacklog(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(o *Opts) {
		o.Backlog = fixedBacklog{{Consumer: ConsumerWebhook, Pending: 3, AckPending: 2}}
		o.BreakerState = func() string { return "open" }
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.d.Run(ctx) }()
	waitUntil(t, func() bool { return testutil.ToFloat64(w.d.m.pending.WithLabelValues(ConsumerWebhook)) == 3 })
	if testutil.ToFloat64(w.d.m.breaker.WithLabelValues("open")) != 1 || testutil.ToFloat64(w.d.m.running) != 1 {
		t.Error("breaker or running gauge not set")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if testutil.ToFloat64(w.d.m.running) != 0 {
		t.Error("running gauge still 1")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*Opts){
		"no node id":          func(o *Opts) { o.NodeID = "" },
		"no schedule":         func(o *Opts) { o.RetrySchedule = nil },
		"zero step":           func(o *Opts) { o.RetrySchedule = []time.Duration{0} },
		"wpcom without queue": func(o *Opts) { o.WPCOMQueue = nil },
		"no store":            func(o *Opts) { o.Dispatch = nil },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := Opts{NodeID: "d1", Registerer: prometheus.NewPedanticRegistry(), FanOutQueue: idleQueue{}, WebhookQueue: idleQueue{},
				AlertQueue: idleQueue{}, WPCOMQueue: idleQueue{}, Jobs: &fakeJobs{}, Backlog: fixedBacklog{},
				DeadLetters: idleDeadLetters{}, DecodeTransition: decodeTestTransition, DecodeJob: decodeTestJob,
				Webhooks: &scripted{}, WPCOM: &scripted{}, RetrySchedule: []time.Duration{time.Minute}}
			s := newFakeStore()
			o.Destinations, o.FanOuts, o.Dispatch, o.Lookup, o.DeadLetterDB = s, s, s, s, s
			valid := o
			valid.Registerer = prometheus.NewPedanticRegistry()
			if _, err := New(valid); err != nil {
				t.Fatalf("the valid baseline is refused: %v", err)
			}
			mod(&o)
			if _, err := New(o); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// waitUntil polls cond with a deadline.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// histogram returns the sample count and sum of kind's latency histogram.
func histogram(t *testing.T, w *world, kind string) (uint64, float64) {
	t.Helper()
	families, err := w.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "jetmon_delivery_latency_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	t.Fatalf("no latency histogram of %s", kind)
	return 0, 0
}
