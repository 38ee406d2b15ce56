package bus_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func probeResult(id int64, bucket int, at time.Time) uptime.ProbeResult {
	return uptime.ProbeResult{Result: uptime.Result{BlogID: id, URL: "https://x.example/", Method: "GET", Success: true,
		HTTPCode: 200, CheckedAt: at}, Bucket: bucket, DueAt: at}
}

// resultsSetup creates assets with a consumer that holds batch messages
// pending and redelivers after ackWait.
func resultsSetup(t *testing.T, batch int, ackWait time.Duration) (jetstream.JetStream, *bus.ResultPublisher) {
	t.Helper()
	o := testAssets()
	o.IngestBatch = batch
	o.AckWait = ackWait
	_, js := setup(t, o)
	pub, err := bus.NewResultPublisher(js, bus.ResultPublisherOpts{Region: "us", NodeID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	return js, pub
}

func consumer(t *testing.T, js jetstream.JetStream, onMalformed func(uint64, error)) *bus.ResultConsumer {
	t.Helper()
	c, err := bus.NewResultConsumer(js, bus.ResultConsumerOpts{OnMalformed: onMalformed})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seqs(b bus.ResultBatch) []uint64 {
	out := make([]uint64, len(b.Deliveries))
	for i, d := range b.Deliveries {
		out[i] = d.Seq
	}
	return out
}

func fetch(t *testing.T, c *bus.ResultConsumer, wait time.Duration) bus.ResultBatch {
	t.Helper()
	b, err := c.Fetch(t.Context(), 100, wait)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return b
}

func TestResultPublishIsDeduplicated(t *testing.T) {
	t.Parallel()
	js, pub := resultsSetup(t, 100, 30*time.Second)
	at := time.Now()
	for range 3 { // a retried publish of one check
		if err := pub.Publish(t.Context(), probeResult(42, 7, at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(t.Context(), probeResult(42, 7, at.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(t.Context(), bus.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().State.Msgs; got != 2 {
		t.Errorf("stream holds %d messages, want 2", got)
	}
	b := fetch(t, consumer(t, js, nil), 300*time.Millisecond)
	if len(b.Deliveries) != 2 {
		t.Fatalf("fetched %d, want 2", len(b.Deliveries))
	}
	got := b.Deliveries[0].Result
	if got.Region != "us" || got.NodeID != "p1" || got.Bucket != 7 || !got.CheckedAt.Equal(at) {
		t.Errorf("delivered %+v", got)
	}
	if err := b.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestResultPublishErrors(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t) // no assets: nothing stores the subject
	js := newJS(t, n.Conn(t))
	pub, err := bus.NewResultPublisher(js, bus.ResultPublisherOpts{Region: "us", NodeID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(t.Context(), probeResult(1, 1, time.Now())); err == nil {
		t.Error("publish without a stream: want an error")
	}
	r := probeResult(1, 1, time.Now())
	r.Region = "eu"
	if err := pub.Publish(t.Context(), r); err == nil {
		t.Error("publish of another region's result: want an error")
	}
}

func TestResultConsumerTerminatesMalformed(t *testing.T) {
	t.Parallel()
	js, pub := resultsSetup(t, 100, 30*time.Second)
	ctx := t.Context()
	var mu sync.Mutex
	var bad []uint64
	c := consumer(t, js, func(seq uint64, err error) {
		mu.Lock()
		defer mu.Unlock()
		bad = append(bad, seq)
		t.Logf("malformed %d: %v", seq, err)
	})
	if _, err := js.Publish(ctx, bus.ResultSubject("us", 1), []byte("not json")); err != nil {
		t.Fatal(err)
	}
	wrongRegion, err := bus.EncodeResult(uptime.ProbeResult{Result: probeResult(5, 1, time.Now()).Result, Bucket: 1, Region: "us", NodeID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, bus.ResultSubject("eu", 1), wrongRegion); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, probeResult(9, 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	b := fetch(t, c, 300*time.Millisecond)
	if !slices.Equal(seqs(b), []uint64{3}) || b.Deliveries[0].Result.BlogID != 9 {
		t.Fatalf("fetched %v, want only seq 3", seqs(b))
	}
	mu.Lock()
	if !slices.Equal(bad, []uint64{1, 2}) {
		t.Errorf("malformed = %v, want [1 2]", bad)
	}
	mu.Unlock()
	if err := b.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	// Terminated messages are not pending any more: never redelivered.
	cons, err := js.Consumer(ctx, bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "nothing pending", func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending != 0 || info.AckFloor.Stream != 3 {
			return errorf("ack pending %d, ack floor %d", info.NumAckPending, info.AckFloor.Stream)
		}
		return nil
	})
}

// TestResultConsumerMaxAckPending: nothing beyond the pending batch is
// delivered until it is acked.
func TestResultConsumerMaxAckPending(t *testing.T) {
	t.Parallel()
	js, pub := resultsSetup(t, 5, 30*time.Second)
	at := time.Now()
	for i := range 8 {
		if err := pub.Publish(t.Context(), probeResult(int64(i+1), 1, at)); err != nil {
			t.Fatal(err)
		}
	}
	c := consumer(t, js, nil)
	first := fetch(t, c, 300*time.Millisecond)
	if !slices.Equal(seqs(first), []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("first batch %v, want 1-5", seqs(first))
	}
	if more := fetch(t, c, 300*time.Millisecond); len(more.Deliveries) != 0 {
		t.Fatalf("delivered %v while 5 are pending", seqs(more))
	}
	if err := first.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	if rest := fetch(t, c, 300*time.Millisecond); !slices.Equal(seqs(rest), []uint64{6, 7, 8}) {
		t.Fatalf("after ack %v, want 6-8", seqs(rest))
	}
}

// TestResultConsumerRedelivery: an unacked batch comes back after AckWait
// with the same stream sequences; InProgress holds it back.
func TestResultConsumerRedelivery(t *testing.T) {
	t.Parallel()
	js, pub := resultsSetup(t, 100, time.Second)
	for i := range 2 {
		if err := pub.Publish(t.Context(), probeResult(int64(i+1), 1, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	c := consumer(t, js, nil)
	b := fetch(t, c, 200*time.Millisecond)
	if !slices.Equal(seqs(b), []uint64{1, 2}) {
		t.Fatalf("fetched %v", seqs(b))
	}
	// Extend for longer than AckWait: nothing is redelivered meanwhile.
	held := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(held) {
		if err := b.InProgress(); err != nil {
			t.Fatal(err)
		}
		if again := fetch(t, c, 300*time.Millisecond); len(again.Deliveries) != 0 {
			t.Fatalf("redelivered %v while in progress", seqs(again))
		}
	}
	start := time.Now()
	var again bus.ResultBatch
	eventually(t, 3*time.Second, "redelivery", func() error {
		again = fetch(t, c, 200*time.Millisecond)
		if len(again.Deliveries) == 0 {
			return errorf("nothing yet")
		}
		return nil
	})
	if !slices.Equal(seqs(again), []uint64{1, 2}) {
		t.Errorf("redelivered %v, want [1 2]", seqs(again))
	}
	t.Logf("redelivered %v after the last extension", time.Since(start))
	if err := again.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Rewind redelivers fetched, unacked results at once and in order, ahead
// of later ones: what a new leader needs from a dead leader's batch.
func TestResultConsumerRewind(t *testing.T) {
	t.Parallel()
	js, pub := resultsSetup(t, 100, time.Minute)
	publish := func(ids ...int64) {
		for _, id := range ids {
			if err := pub.Publish(t.Context(), probeResult(id, 1, time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(1, 2)
	c := consumer(t, js, nil)
	first := fetch(t, c, 200*time.Millisecond)
	if err := first.Ack(t.Context()); err != nil {
		t.Fatal(err)
	}
	publish(3, 4)
	if b := fetch(t, c, 200*time.Millisecond); !slices.Equal(seqs(b), []uint64{3, 4}) {
		t.Fatalf("fetched %v, want [3 4]", seqs(b))
	} // never acked, as by a leader that died
	publish(5)
	if err := c.Rewind(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b := fetch(t, c, 200*time.Millisecond); !slices.Equal(seqs(b), []uint64{3, 4, 5}) {
		t.Errorf("after rewind fetched %v, want [3 4 5] (the acked 1 and 2 stay acked)", seqs(b))
	}
}
