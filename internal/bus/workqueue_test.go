package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func newWorkQueue(t *testing.T, js jetstream.JetStream, consumer string, o bus.WorkQueueOpts) *bus.WorkQueue {
	t.Helper()
	q, err := bus.NewWorkQueue(js, consumer, o)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// consume runs q until the test ends (or stop is called).
func consume(t *testing.T, q *bus.WorkQueue, handle func(context.Context, bus.WorkMsg)) (stop func() error) {
	t.Helper()
	return run(t, func(ctx context.Context) error { return q.Consume(ctx, handle) })
}

// delivery is what a handler saw of one message.
type delivery struct {
	seq, delivered uint64
	job            bus.Job
	at             time.Time
	err            error // of the settling call
}

func TestWorkQueueDeliversEachMessageOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	n, js := setup(t, deliveryAssets())
	const total = 40
	var (
		mu   sync.Mutex
		seen = map[uint64]int{}
	)
	got := make(chan delivery, 2*total)
	for range 2 {
		q := newWorkQueue(t, newJS(t, n.Conn(t)), bus.ConsumerWebhook, bus.WorkQueueOpts{Workers: 3})
		consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
			mu.Lock()
			seen[m.StreamSeq]++
			mu.Unlock()
			job, err := bus.DecodeJob(m.Data)
			if err == nil {
				err = m.Ack(ctx)
			}
			got <- delivery{seq: m.StreamSeq, delivered: m.Delivered, job: job, err: err}
		})
	}
	jobs := publishJobs(t, js, "webhook", 100, total)
	byID := map[int64]bool{}
	for range total {
		d := recv(t, got, 10*time.Second, "delivery")
		if d.err != nil || d.delivered != 1 {
			t.Errorf("delivery %d: delivered %d, err %v", d.seq, d.delivered, d.err)
		}
		byID[d.job.DeliveryID] = true
	}
	for _, j := range jobs {
		if !byID[j.DeliveryID] {
			t.Errorf("job of delivery %d not handled", j.DeliveryID)
		}
	}
	eventually(t, 5*time.Second, "stream empty", func() error {
		if n := streamMsgs(t, js, bus.StreamDelivery); n != 0 {
			return errorf("%d messages left", n)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	for seq, count := range seen {
		if count != 1 {
			t.Errorf("message %d handled %d times", seq, count)
		}
	}
}

// TestWorkQueueBoundsInFlight: each worker holds one message; the rest
// wait on the server, not in the client's buffer.
func TestWorkQueueBoundsInFlight(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	release := make(chan struct{})
	var running, peak atomic.Int32
	started := make(chan struct{}, 5)
	q := newWorkQueue(t, js, bus.ConsumerAlert, bus.WorkQueueOpts{Workers: 2})
	acked := make(chan error, 5)
	consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
		now := running.Add(1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		started <- struct{}{}
		<-release
		running.Add(-1)
		acked <- m.Ack(ctx)
	})
	publishJobs(t, js, "alert", 1, 5)
	for range 2 {
		recv(t, started, 5*time.Second, "handler start")
	}
	backlog, err := bus.DeliveryBacklog(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	if b := backlog[bus.ConsumerAlert]; b.NumAckPending != 2 || b.NumPending != 3 {
		t.Errorf("with both workers busy: %+v, want 2 in flight and 3 waiting on the server", b)
	}
	close(release)
	for range 5 {
		if err := recv(t, acked, 5*time.Second, "ack"); err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

func TestWorkQueueNakDelaysRedelivery(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	const delay = 400 * time.Millisecond
	got := make(chan delivery, 4)
	q := newWorkQueue(t, js, bus.ConsumerWebhook, bus.WorkQueueOpts{})
	consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
		d := delivery{seq: m.StreamSeq, delivered: m.Delivered, at: time.Now()}
		if m.Delivered == 1 {
			d.err = m.Nak(ctx, delay)
		} else {
			d.err = m.Ack(ctx)
		}
		got <- d
	})
	publishJobs(t, js, "webhook", 1, 1)
	first := recv(t, got, 5*time.Second, "first delivery")
	second := recv(t, got, 5*time.Second, "redelivery")
	if first.err != nil || second.err != nil {
		t.Fatalf("nak %v, ack %v", first.err, second.err)
	}
	if second.seq != first.seq || second.delivered != 2 {
		t.Errorf("redelivery of %d as delivery %d, want %d as 2", second.seq, second.delivered, first.seq)
	}
	// The redelivery waits out the delay (measured from before the nak was
	// sent, so it cannot come early).
	if gap := second.at.Sub(first.at); gap < delay {
		t.Errorf("redelivered after %v, want >= %v", gap, delay)
	}
}

func TestWorkQueueTermRemovesMessage(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	got := make(chan delivery, 2)
	q := newWorkQueue(t, js, bus.ConsumerWPCOM, bus.WorkQueueOpts{})
	consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
		got <- delivery{seq: m.StreamSeq, err: m.Term(ctx, "malformed: test")}
	})
	publishJobs(t, js, "wpcom", 1, 1)
	if d := recv(t, got, 5*time.Second, "delivery"); d.err != nil {
		t.Fatal(d.err)
	}
	eventually(t, 5*time.Second, "terminated message removed", func() error {
		if n := streamMsgs(t, js, bus.StreamDelivery); n != 0 {
			return errorf("%d messages left", n)
		}
		return nil
	})
	backlog, err := bus.DeliveryBacklog(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	if b := backlog[bus.ConsumerWPCOM]; b != (bus.ConsumerBacklog{}) {
		t.Errorf("wpcom backlog after term: %+v", b)
	}
}

// TestWorkQueueDrainsInFlightHandlers: after ctx ends, a running handler
// finishes with a live context and its ack reaches the server.
func TestWorkQueueDrainsInFlightHandlers(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	started, release := make(chan struct{}, 1), make(chan struct{})
	acked := make(chan error, 1)
	q := newWorkQueue(t, js, bus.ConsumerFanout, bus.WorkQueueOpts{DrainTimeout: 10 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, func(hctx context.Context, m bus.WorkMsg) {
			started <- struct{}{}
			<-release
			acked <- errors.Join(hctx.Err(), m.Ack(hctx))
		})
	}()
	tp, err := bus.NewTransitionPublisher(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.PublishTransition(t.Context(), 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	recv(t, started, 5*time.Second, "handler start")
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Consume returned %v while a handler was running", err)
	default:
	}
	close(release)
	if err := recv(t, acked, 5*time.Second, "ack"); err != nil {
		t.Fatalf("ack during drain: %v", err)
	}
	if err := recv(t, done, 5*time.Second, "Consume return"); err != nil {
		t.Fatalf("Consume = %v, want nil", err)
	}
	if n := streamMsgs(t, js, bus.StreamDelivery); n != 0 {
		t.Errorf("%d messages left after the drained ack", n)
	}
}

// TestWorkQueueDrainTimeoutCancelsHandlers: a handler still running at the
// drain timeout sees its context cancelled; Consume returns once it has.
func TestWorkQueueDrainTimeoutCancelsHandlers(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	const drain = 200 * time.Millisecond
	started := make(chan struct{}, 1)
	sawCancel := make(chan time.Time, 1)
	q := newWorkQueue(t, js, bus.ConsumerWebhook, bus.WorkQueueOpts{DrainTimeout: drain})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, func(hctx context.Context, _ bus.WorkMsg) {
			started <- struct{}{}
			<-hctx.Done()
			sawCancel <- time.Now()
		})
	}()
	publishJobs(t, js, "webhook", 1, 1)
	recv(t, started, 5*time.Second, "handler start")
	cancelled := time.Now()
	cancel()
	if err := recv(t, done, 5*time.Second, "Consume return"); err != nil {
		t.Fatalf("Consume = %v, want nil", err)
	}
	if at := recv(t, sawCancel, time.Second, "handler cancel"); at.Sub(cancelled) < drain {
		t.Errorf("handler cancelled %v after ctx ended, want >= %v", at.Sub(cancelled), drain)
	}
}

// TestWorkQueueWaitsForConsumerAndSurvivesDeletion: Consume starts before
// its consumer exists, and consumes again after the consumer was deleted
// and created again.
func TestWorkQueueWaitsForConsumerAndSurvivesDeletion(t *testing.T) {
	t.Parallel()
	o := deliveryAssets()
	_, js := setup(t, o)
	ctx := t.Context()
	if err := js.DeleteConsumer(ctx, bus.StreamDelivery, bus.ConsumerWebhook); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 4)
	q := newWorkQueue(t, js, bus.ConsumerWebhook, bus.WorkQueueOpts{Workers: 2})
	consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
		j, err := bus.DecodeJob(m.Data)
		if err != nil {
			t.Errorf("decode: %v", err)
		}
		if err := m.Ack(ctx); err != nil {
			t.Errorf("ack: %v", err)
		}
		got <- j.DeliveryID
	})
	publishJobs(t, js, "webhook", 1, 1)
	if err := bus.EnsureAssets(ctx, js, o); err != nil {
		t.Fatal(err)
	}
	if id := recv(t, got, 10*time.Second, "job after the consumer was created"); id != 1 {
		t.Fatalf("got job %d, want 1", id)
	}
	if err := js.DeleteConsumer(ctx, bus.StreamDelivery, bus.ConsumerWebhook); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureAssets(ctx, js, o); err != nil {
		t.Fatal(err)
	}
	publishJobs(t, js, "webhook", 2, 1)
	if id := recv(t, got, 10*time.Second, "job after the consumer was recreated"); id != 2 {
		t.Fatalf("got job %d, want 2", id)
	}
}

func TestNewWorkQueueRejectsBadOpts(t *testing.T) {
	t.Parallel()
	js := newJS(t, testenv.StartNATS(t).Conn(t))
	for name, tt := range map[string]struct {
		js       jetstream.JetStream
		consumer string
		o        bus.WorkQueueOpts
	}{
		"no jetstream":           {nil, bus.ConsumerWebhook, bus.WorkQueueOpts{}},
		"no consumer":            {js, "", bus.WorkQueueOpts{}},
		"consumer with a dot":    {js, "web.hook", bus.WorkQueueOpts{}},
		"negative workers":       {js, bus.ConsumerWebhook, bus.WorkQueueOpts{Workers: -1}},
		"too many workers":       {js, bus.ConsumerWebhook, bus.WorkQueueOpts{Workers: 1000}},
		"negative drain timeout": {js, bus.ConsumerWebhook, bus.WorkQueueOpts{DrainTimeout: -time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := bus.NewWorkQueue(tt.js, tt.consumer, tt.o); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	q := newWorkQueue(t, js, bus.ConsumerWebhook, bus.WorkQueueOpts{})
	if err := q.Consume(t.Context(), nil); err == nil {
		t.Error("Consume without a handler: want an error")
	}
}

// TestWorkQueueEndsWhenConnectionCloses: a connection closed for good
// cannot come back, so Consume reports it instead of retrying forever.
func TestWorkQueueEndsWhenConnectionCloses(t *testing.T) {
	t.Parallel()
	n, _ := setup(t, deliveryAssets())
	nc := n.Conn(t)
	q := newWorkQueue(t, newJS(t, nc), bus.ConsumerWebhook, bus.WorkQueueOpts{Workers: 2})
	done := make(chan error, 1)
	go func() { done <- q.Consume(t.Context(), func(context.Context, bus.WorkMsg) {}) }()
	eventually(t, 5*time.Second, "pulls waiting", func() error {
		if nc.NumSubscriptions() < 2 {
			return errorf("%d subscriptions", nc.NumSubscriptions())
		}
		return nil
	})
	nc.Close()
	if err := recv(t, done, 10*time.Second, "Consume return"); err == nil {
		t.Fatal("Consume = nil after the connection closed, want an error")
	}
}
