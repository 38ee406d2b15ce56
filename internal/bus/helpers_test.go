package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// testAssets are small, fast assets for tests.
func testAssets() bus.AssetOpts {
	return bus.AssetOpts{
		NodeTTL: time.Second, LeaderTTL: 2 * time.Second,
		ResultsMaxAge: time.Hour, ResultsMaxBytes: 64 << 20, IngestBatch: 100, AckWait: 30 * time.Second,
	}
}

// setup starts a server, creates the assets with o and returns it with a
// JetStream handle on a first connection.
func setup(t *testing.T, o bus.AssetOpts) (*testenv.NATS, jetstream.JetStream) {
	t.Helper()
	n := testenv.StartNATS(t)
	js := newJS(t, n.Conn(t))
	if err := bus.EnsureAssets(t.Context(), js, o); err != nil {
		t.Fatalf("ensure assets: %v", err)
	}
	return n, js
}

func newJS(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// eventually polls cond every 20ms until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// recv waits up to timeout for a value from ch.
func recv[T any](t *testing.T, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(timeout):
		t.Fatalf("%s: nothing within %v", what, timeout)
	}
	panic("unreachable")
}

// recvUntil receives from ch until match accepts a value or timeout passes.
func recvUntil[T any](t *testing.T, ch <-chan T, timeout time.Duration, what string, match func(T) bool) T {
	t.Helper()
	deadline := time.After(timeout)
	var last T
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				t.Fatalf("%s: channel closed (last %v)", what, last)
			}
			if match(v) {
				return v
			}
			last = v
		case <-deadline:
			t.Fatalf("%s: not within %v (last %+v)", what, timeout, last)
		}
	}
}

// run runs f in the background until the test ends and reports its error.
// It returns a cancel function that stops f and waits for it.
func run(t *testing.T, f func(ctx context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f(ctx) }()
	var done bool
	var result error
	stop = func() error {
		if !done {
			cancel()
			result = <-errc
			done = true
		}
		return result
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("background run: %v", err)
		}
	})
	return stop
}

func kv(t *testing.T, js jetstream.JetStream, bucket string) jetstream.KeyValue {
	t.Helper()
	h, err := js.KeyValue(t.Context(), bucket)
	if err != nil {
		t.Fatalf("kv %s: %v", bucket, err)
	}
	return h
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
