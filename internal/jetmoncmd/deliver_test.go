package jetmoncmd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestDeliverTwoDeliverersExactlyOnce: two deliverers consume the same
// queues at once; every (webhook, transition) reaches its receiver exactly
// once, with a valid signature, and is recorded delivered once.
func TestDeliverTwoDeliverersExactlyOnce(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	receivers := []*hookReceiver{newHookReceiver(t), newHookReceiver(t)}
	hooks := map[int64]*hookReceiver{}
	for _, r := range receivers {
		hooks[w.addWebhook(r.URL())] = r
	}
	d1, d2 := w.startDeliverer("d1"), w.startDeliverer("d2")
	const transitions = 15
	reasons := []uptime.Reason{uptime.ReasonOpened, uptime.ReasonVerifierConfirmed, uptime.ReasonVerifierCleared}
	for i := range transitions {
		w.publish(dlvTransition(int64(1000+i), int64(i%4+1), reasons[i%3], ""))
	}
	waitFor(t, stepBudget, "every delivery delivered", func() error { return w.allSettled(2 * transitions) })

	for id, r := range hooks {
		got := map[int64]int{}
		for _, req := range r.got() {
			if !req.validSig {
				t.Errorf("webhook %d: delivery %s has an invalid signature", id, req.delivery)
			}
			got[req.transition]++
		}
		for i := range transitions {
			if n := got[int64(1000+i)]; n != 1 {
				t.Errorf("webhook %d received transition %d %d times, want exactly once", id, 1000+i, n)
			}
		}
	}
	ds, err := w.deliveries()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.status != string(uptime.DeliveryDelivered) || d.attempt != 1 {
			t.Errorf("delivery %+v, want delivered at attempt 1", d)
		}
		if a := w.attempts(d.id); len(a) != 1 {
			t.Errorf("delivery %d attempts %q, want one", d.id, a)
		}
	}
	sent := delivered(t, d1) + delivered(t, d2)
	if sent != 2*transitions {
		t.Errorf("the deliverers count %v deliveries, want %d", sent, 2*transitions)
	}
	t.Logf("d1 delivered %v, d2 delivered %v",
		delivered(t, d1), delivered(t, d2))
}

// TestDeliverRetriesAbandonsAndManualRetry: on RETRY_SCHEDULE 200ms,200ms
// a receiver answering 500, 500, 200 gets three attempts, all recorded,
// then the delivery is delivered; a receiver that never recovers ends
// abandoned after three, and a manual retry re-enqueues it with its
// history kept.
func TestDeliverRetriesAbandonsAndManualRetry(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	flaky := newHookReceiver(t, 500, 500, 200)
	down := newHookReceiver(t, 500, 500, 500, 200)
	flakyID, downID := w.addWebhook(flaky.URL()), w.addWebhook(down.URL())
	d := w.startDeliverer("d1")
	w.publish(dlvTransition(7, 1, uptime.ReasonOpened, ""))
	waitFor(t, stepBudget, "both deliveries settled", func() error { return w.allSettled(2) })

	ds, err := w.deliveries()
	if err != nil {
		t.Fatal(err)
	}
	byHook := map[int64]deliveryState{}
	for _, x := range ds {
		byHook[x.destination] = x
	}
	if f := byHook[flakyID]; f.status != "delivered" || f.attempt != 3 || f.lastCode != 200 {
		t.Errorf("flaky receiver's delivery %+v, want delivered at attempt 3", f)
	}
	if got := w.attempts(byHook[flakyID].id); !slices.Equal(got, []string{"retry@d1", "retry@d1", "delivered@d1"}) {
		t.Errorf("flaky attempts %q", got)
	}
	if n := len(flaky.got()); n != 3 {
		t.Errorf("flaky receiver got %d requests, want 3", n)
	}
	dead := byHook[downID]
	if dead.status != "abandoned" || dead.attempt != 3 || dead.lastCode != 500 {
		t.Errorf("down receiver's delivery %+v, want abandoned after 3 attempts", dead)
	}
	if got := w.attempts(dead.id); !slices.Equal(got, []string{"retry@d1", "retry@d1", "abandoned@d1"}) {
		t.Errorf("abandoned attempts %q", got)
	}
	d.waitMetric(t, "the abandoned delivery counted", 1, "jetmon_delivery_abandoned_total", "kind", "webhook")

	// The receiver recovers; a manual retry from the API's entry point.
	ops, err := newDeliveryOps(d.rt, w.node(d.rt), w.db)
	if err != nil {
		t.Fatal(err)
	}
	retried, err := ops.Retry(t.Context(), dead.id)
	if err != nil || retried.Status != uptime.DeliveryPending || retried.Attempt != 0 {
		t.Fatalf("retry: %+v, %v", retried, err)
	}
	waitFor(t, stepBudget, "the retried delivery delivered", func() error {
		if got := w.attempts(dead.id); len(got) != 4 || got[3] != "delivered@d1" {
			return fmt.Errorf("attempts %q", got)
		}
		return nil
	})
	if _, err := ops.Retry(t.Context(), byHook[flakyID].id); err == nil {
		t.Error("a delivered delivery was retried")
	}
}

// TestDeliverKilledMidSend: the deliverer sending a delivery dies (NATS
// and MySQL connections gone, nothing recorded) while the receiver holds
// the request; once its lease expires the other deliverer takes the
// delivery over and exactly one success is recorded.
func TestDeliverKilledMidSend(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	r := newHookReceiver(t)
	held, release := r.holdFirst()
	defer release()
	w.addWebhook(r.URL())
	nodes := map[string]*testNode{"d1": w.startDeliverer("d1"), "d2": w.startDeliverer("d2")}
	w.publish(dlvTransition(9, 1, uptime.ReasonVerifierConfirmed, "down"))
	select {
	case <-held:
	case <-time.After(stepBudget):
		t.Fatal("the receiver got no request")
	}
	var sender string
	if err := w.db.QueryRowContext(t.Context(), "SELECT claimed_by FROM jetmon_deliveries").Scan(&sender); err != nil {
		t.Fatal(err)
	}
	survivor := map[string]string{"d1": "d2", "d2": "d1"}[sender]
	crash(t, nodes[sender])
	release()
	waitFor(t, stepBudget, "the survivor delivers", func() error { return w.allSettled(1) })

	ds, _ := w.deliveries()
	if ds[0].status != "delivered" {
		t.Fatalf("delivery %+v, want delivered", ds[0])
	}
	got := w.attempts(ds[0].id)
	delivered := 0
	for _, a := range got {
		if a == "delivered@"+survivor {
			delivered++
		} else if strings.HasPrefix(a, "delivered") {
			t.Errorf("attempt %s by the killed deliverer", a)
		}
	}
	if delivered != 1 || len(got) != 2 || got[0] != "sending@"+sender {
		t.Errorf("attempts %q, want the killed one left sending and exactly one success by %s", got, survivor)
	}
	reqs := r.got()
	if len(reqs) != 2 || reqs[0].delivery != reqs[1].delivery || reqs[0].delivery != strconv.FormatInt(ds[0].id, 10) {
		t.Errorf("receiver requests %+v, want two with the same X-Jetmon-Delivery (receivers dedupe on it)", reqs)
	}
}

// TestDeliverDeadLetters: a job of a delivery that does not exist is
// recorded as a dead letter and terminated; a malformed transition too.
func TestDeliverDeadLetters(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	d := w.startDeliverer("d1")
	jobs, err := bus.NewJobPublisher(w.js)
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.PublishJob(t.Context(), bus.Job{DeliveryID: 404, Kind: "webhook", DestinationID: 1, TransitionID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.js.Publish(t.Context(), bus.SubjectDeliverTransition, []byte(`{"v":1,"transition":{}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stepBudget, "two dead letters recorded", func() error {
		var n int
		if err := w.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM jetmon_dead_letters").Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("%d dead letters", n)
		}
		return nil
	})
	if got, err := d.metric("jetmon_delivery_malformed_total", "consumer", "fanout"); err != nil || got != 1 {
		t.Errorf("malformed fan-out messages counted %v (%v), want 1", got, err)
	}
	waitFor(t, stepBudget, "the stream emptied", func() error {
		state, err := streamState(t.Context(), w.js, bus.StreamDelivery)
		if err == nil && state.Msgs != 0 {
			err = fmt.Errorf("%d messages left", state.Msgs)
		}
		return err
	})
}
