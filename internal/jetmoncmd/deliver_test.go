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
// once, with a valid signature, and is recorded delivered once: for
// transitions fanned out by the deliverers, and for jobs that arrive twice
// at once (only the deliverer that wins the claim sends).
func TestDeliverTwoDeliverersExactlyOnce(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	receivers := []*hookReceiver{newHookReceiver(t), newHookReceiver(t)}
	hooks := map[int64]*hookReceiver{}
	var hookIDs []int64
	for _, r := range receivers {
		id := w.addWebhook(r.URL())
		hooks[id] = r
		hookIDs = append(hookIDs, id)
	}
	d1, d2 := w.startDeliverer("d1"), w.startDeliverer("d2")
	const transitions, doubled = 15, 15 // fanned out; delivered from duplicated jobs (ids 2000...)
	reasons := []uptime.Reason{uptime.ReasonOpened, uptime.ReasonVerifierConfirmed, uptime.ReasonVerifierCleared}
	for i := range transitions {
		w.publish(dlvTransition(int64(1000+i), int64(i%4+1), reasons[i%3], ""))
	}
	for i := range doubled {
		w.publishJobTwice(dlvTransition(int64(2000+i), int64(i%4+1), reasons[i%3], ""), hookIDs)
	}
	waitFor(t, stepBudget, "every delivery delivered", func() error { return w.allSettled(2 * (transitions + doubled)) })
	// A copy that lost the claim waits out the lease, then sees the row
	// delivered: only then can nothing more reach a receiver.
	waitFor(t, stepBudget, "every copy of every job settled", w.streamDrained)

	for id, r := range hooks {
		got := map[int64]int{}
		for _, req := range r.got() {
			if !req.validSig {
				t.Errorf("webhook %d: delivery %s has an invalid signature", id, req.delivery)
			}
			got[req.transition]++
		}
		for first, n := range map[int64]int{1000: transitions, 2000: doubled} {
			for i := range int64(n) {
				if n := got[first+i]; n != 1 {
					t.Errorf("webhook %d received transition %d %d times, want exactly once", id, first+i, n)
				}
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
	n1, n2 := delivered(t, d1), delivered(t, d2)
	if n1+n2 != 2*(transitions+doubled) {
		t.Errorf("the deliverers count %v deliveries, want %d", n1+n2, 2*(transitions+doubled))
	}
	if n1 == 0 || n2 == 0 { // of 60 deliveries on 2×4 workers: the two did not share the queues
		t.Errorf("d1 delivered %v, d2 %v: both must take part", n1, n2)
	}
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
	// Each attempt: its number, the answer and, for a retry, the wait of
	// its RETRY_SCHEDULE step (200ms) until the next.
	wantFlaky := []attemptRecord{{1, 500, "{\"status\":500}\n", 200 * time.Millisecond},
		{2, 500, "{\"status\":500}\n", 200 * time.Millisecond}, {3, 200, "{\"status\":200}\n", -1}}
	if got := w.attemptRecords(byHook[flakyID].id); !slices.Equal(got, wantFlaky) {
		t.Errorf("flaky attempts recorded %+v, want %+v", got, wantFlaky)
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
	// Counted once terminated, just after the row is written.
	d.waitMetric(t, "the malformed transition counted", 1, "jetmon_delivery_malformed_total", "consumer", "fanout")
	d.waitMetric(t, "both dead letters counted", 1, "jetmon_delivery_dead_letters_total", "consumer", "webhook")
	d.waitMetric(t, "both dead letters counted", 1, "jetmon_delivery_dead_letters_total", "consumer", "fanout")
	if got, err := d.metric("jetmon_delivery_malformed_total", "consumer", "webhook"); err != nil || got != 0 {
		t.Errorf("a job without its row counted malformed: %v (%v), want 0", got, err)
	}
	waitFor(t, stepBudget, "the stream emptied", func() error {
		state, err := streamState(t.Context(), w.js, bus.StreamDelivery)
		if err == nil && state.Msgs != 0 {
			err = fmt.Errorf("%d messages left", state.Msgs)
		}
		return err
	})
}

// TestDeliverDeadLetterOfExhaustedMessage: a transition whose fan-out cannot
// read MySQL runs out of deliveries (MaxDeliver 1 here); the server's
// max-deliveries advisory reaches a deliverer through the dead-letter
// mover, which records the original in jetmon_dead_letters and removes it
// from JETMON_DELIVERY, and its advisory from JETMON_DEAD_LETTERS.
func TestDeliverDeadLetterOfExhaustedMessage(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	if err := bus.EnsureAssets(t.Context(), w.js, bus.AssetOpts{DeliveryAckWait: dlvAckWait, DeliveryMaxDeliver: 1,
		NodeTTL: testNodeTTL, LeaderTTL: testLeaderTTL}); err != nil {
		t.Fatal(err)
	}
	w.exec("RENAME TABLE jetmon_site_tenants TO jetmon_site_tenants_gone") // every fan-out now fails
	d := w.startDeliverer("d1")
	m := dlvTransition(41, 1, uptime.ReasonOpened, "")
	w.publish(m)
	waitFor(t, stepBudget, "the dead letter recorded", func() error {
		var consumer, subject string
		var deliveries int
		err := w.db.QueryRowContext(t.Context(), `SELECT consumer, subject, deliveries FROM jetmon_dead_letters
			WHERE stream = ?`, bus.StreamDelivery).Scan(&consumer, &subject, &deliveries)
		if err == nil && (consumer != bus.ConsumerFanout || subject != bus.SubjectDeliverTransition || deliveries != 1) {
			err = fmt.Errorf("dead letter of %s on %s after %d deliveries", consumer, subject, deliveries)
		}
		return err
	})
	var payload []byte
	if err := w.db.QueryRowContext(t.Context(), "SELECT payload FROM jetmon_dead_letters").Scan(&payload); err != nil {
		t.Fatal(err)
	}
	if got, err := bus.DecodeTransitionMessage(payload); err != nil || got.Transition.ID != m.Transition.ID {
		t.Errorf("recorded payload is transition %d (%v), want the original, %d", got.Transition.ID, err, m.Transition.ID)
	}
	d.waitMetric(t, "the dead letter counted", 1, "jetmon_delivery_dead_letters_total", "consumer", "fanout")
	waitFor(t, stepBudget, "the original and its advisory removed", func() error {
		for _, stream := range []string{bus.StreamDelivery, bus.StreamDeadLetters} {
			state, err := streamState(t.Context(), w.js, stream)
			if err == nil && state.Msgs != 0 {
				err = fmt.Errorf("%d messages left in %s", state.Msgs, stream)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if got, err := d.metric("jetmon_delivery_malformed_total", "consumer", "fanout"); err != nil || got != 0 {
		t.Errorf("an exhausted message counted malformed: %v (%v)", got, err)
	}
}
