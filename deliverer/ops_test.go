package deliverer

import (
	"errors"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func newTestOps(t *testing.T, w *world) *Ops {
	t.Helper()
	ops, err := NewOps(OpsOpts{Store: w.store, Contacts: w.store, Jobs: w.jobs, Now: w.clock.Now,
		Alerts: map[uptime.AlertTransport]AlertSender{uptime.TransportEmail: w.sender}})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestOpsRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ops := newTestOps(t, w)
	w.sender.results = []sendResult{{err: &uptime.PermanentError{Err: errors.New("gone")}}, {}}
	j := fannedOut(t, w)
	if _, err := ops.Retry(t.Context(), j.DeliveryID); !errors.Is(err, ErrNotRetryable) {
		t.Fatalf("retry of a pending delivery: %v, want ErrNotRetryable", err)
	}
	if how, _, _ := dispatchJob(t, w, j); how != "term" {
		t.Fatalf("first send settled %q, want term", how)
	}
	d, err := ops.Retry(t.Context(), j.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != uptime.DeliveryPending || d.Attempt != 0 || d.LastResponse != "" {
		t.Errorf("retried delivery = %+v", d)
	}
	jobs := w.jobs.all()
	retried := jobs[len(jobs)-1]
	if retried.DeliveryID != j.DeliveryID || retried.Generation != 1 {
		t.Fatalf("retry job = %+v, want generation 1", retried)
	}
	if how, _, _ := dispatchJob(t, w, j); how != "ack" || w.sender.count() != 1 {
		t.Errorf("the old job settled %q after %d sends, want ack unsent", how, w.sender.count())
	}
	if how, _, _ := dispatchJob(t, w, retried); how != "ack" {
		t.Fatalf("retry job settled %q", how)
	}
	if got := w.store.outcomes(j.DeliveryID); len(got) != 2 || got[0] != OutcomeAbandoned || got[1] != OutcomeDelivered {
		t.Errorf("attempts = %q, want the history kept", got)
	}
	if _, err := ops.Retry(t.Context(), 404); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry of a missing delivery: %v", err)
	}
}

func TestOpsRetryUndoneWhenThePublishFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ops := newTestOps(t, w)
	w.sender.results = []sendResult{{err: &uptime.PermanentError{Err: errors.New("gone")}}}
	j := fannedOut(t, w)
	dispatchJob(t, w, j)
	w.jobs.err = errors.New("no stream")
	if _, err := ops.Retry(t.Context(), j.DeliveryID); err == nil {
		t.Fatal("retry succeeded without a job")
	}
	r := w.store.row(t, j.DeliveryID)
	if r.Status != uptime.DeliveryAbandoned || r.Generation != 1 {
		t.Errorf("row = %+v, want abandoned again at generation 1 (the next retry gets a fresh message id)", r)
	}
}

func TestOpsSendTest(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ops := newTestOps(t, w)
	w.store.contacts[1] = uptime.AlertContact{ID: 1, Label: "ops", Transport: uptime.TransportEmail,
		MinSeverity: uptime.SeverityDown, Destination: map[string]string{"address": "a@example.com"}}
	w.store.contacts[2] = uptime.AlertContact{ID: 2, Transport: uptime.TransportPagerDuty}
	res, err := ops.SendTest(t.Context(), 1)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("send test: %+v, %v", res, err)
	}
	if n, ok := w.sender.seen[0].(uptime.Notice); !ok || !n.Test || n.EventType != uptime.EventTest {
		t.Errorf("notice = %+v", w.sender.seen[0])
	}
	if _, err := ops.SendTest(t.Context(), 2); !errors.Is(err, ErrTransportNotConfigured) {
		t.Errorf("pagerduty without a sender: %v", err)
	}
	if _, err := ops.SendTest(t.Context(), 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing contact: %v", err)
	}
	if len(w.store.rows) != 0 {
		t.Error("a send-test wrote a delivery row")
	}
}
