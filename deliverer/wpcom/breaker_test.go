package wpcom_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/wpcom"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// flaky answers with whatever status is set (500 until told otherwise).
type flaky struct{ status atomic.Int32 }

func newFlaky() *flaky {
	f := &flaky{}
	f.status.Store(http.StatusInternalServerError)
	return f
}

func (f *flaky) answer(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(int(f.status.Load())) }

// transitions records the breaker's state changes.
type transitions struct {
	mu  sync.Mutex
	got []string
}

func (tr *transitions) record(from, to wpcom.State) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.got = append(tr.got, string(from)+">"+string(to))
}

func (tr *transitions) list() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.got)
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fail sends n notifications that fail, draining their requests.
func fail(t *testing.T, n *wpcom.Notifier, got <-chan transporttest.Received, times int) {
	t.Helper()
	for i := range times {
		if _, err := n.NotifyStatusChange(t.Context(), running()); err == nil {
			t.Fatalf("failure %d succeeded", i+1)
		}
		transporttest.Next(t, got)
	}
}

func deferred(t *testing.T, err error) *uptime.DeferredError {
	t.Helper()
	var d *uptime.DeferredError
	if !errors.As(err, &d) {
		t.Fatalf("err = %v, want *uptime.DeferredError", err)
	}
	return d
}

// TestBreakerOpensAfterConsecutiveFailures: a success resets the count;
// the threshold-th consecutive failure opens the breaker.
func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ threshold, want int }{
		"default five": {threshold: 0, want: 5},
		"configured":   {threshold: 2, want: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFlaky()
			srv, got := transporttest.Serve(t, f.answer)
			n := newNotifier(t, wpcom.Opts{URL: srv.URL, FailureThreshold: tc.threshold, OpenTimeout: time.Minute})
			fail(t, n, got, tc.want-1)
			f.status.Store(http.StatusOK)
			if _, err := n.NotifyStatusChange(t.Context(), running()); err != nil {
				t.Fatal(err)
			}
			transporttest.Next(t, got)
			f.status.Store(http.StatusInternalServerError)
			fail(t, n, got, tc.want-1)
			if s := n.State(); s != wpcom.StateClosed {
				t.Fatalf("after a success and %d failures the breaker is %s, want closed", tc.want-1, s)
			}
			fail(t, n, got, 1)
			if s := n.State(); s != wpcom.StateOpen {
				t.Fatalf("after %d consecutive failures the breaker is %s, want open", tc.want, s)
			}
		})
	}
}

// TestBreakerDefersWhileOpen: nothing reaches the receiver, and RetryAfter
// is the time until half-open, at least one second.
func TestBreakerDefersWhileOpen(t *testing.T) {
	t.Parallel()
	clk := &clock{t: transporttest.At()}
	srv, got := transporttest.Serve(t, newFlaky().answer)
	n := newNotifier(t, wpcom.Opts{URL: srv.URL, OpenTimeout: time.Minute, Now: clk.now})
	fail(t, n, got, wpcom.DefaultFailureThreshold)
	for _, step := range []struct {
		advance, want time.Duration
	}{{0, time.Minute}, {20 * time.Second, 40 * time.Second}, {39500 * time.Millisecond, time.Second}} {
		clk.advance(step.advance)
		res, err := n.NotifyStatusChange(t.Context(), running())
		if d := deferred(t, err); d.RetryAfter != step.want {
			t.Errorf("%v after opening: RetryAfter = %v, want %v", clk.now().Sub(transporttest.At()), d.RetryAfter, step.want)
		}
		if res != (uptime.SendResult{}) {
			t.Errorf("a deferral has result %+v, want none", res)
		}
	}
	transporttest.None(t, got)
}

// TestBreakerHalfOpensAndCloses: after OpenTimeout one probe goes through;
// its success closes the breaker, its failure opens it again.
func TestBreakerHalfOpensAndCloses(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		probe int
		want  []string
	}{
		"probe succeeds": {probe: http.StatusOK, want: []string{"closed>open", "open>half-open", "half-open>closed"}},
		"probe fails":    {probe: http.StatusBadGateway, want: []string{"closed>open", "open>half-open", "half-open>open"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, tr := newFlaky(), &transitions{}
			srv, got := transporttest.Serve(t, f.answer)
			n := newNotifier(t, wpcom.Opts{URL: srv.URL, OpenTimeout: 50 * time.Millisecond, OnStateChange: tr.record})
			fail(t, n, got, wpcom.DefaultFailureThreshold)
			eventually(t, "half-open", func() bool { return n.State() == wpcom.StateHalfOpen })
			f.status.Store(int32(tc.probe))
			_, err := n.NotifyStatusChange(t.Context(), running())
			transporttest.Next(t, got)
			if (err != nil) != (tc.probe != http.StatusOK) {
				t.Fatalf("probe answered %d: err = %v", tc.probe, err)
			}
			if got := tr.list(); !slices.Equal(got, tc.want) {
				t.Errorf("transitions = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBreakerOneProbeInHalfOpen: while the probe is in flight, other
// notifications are deferred without a request.
func TestBreakerOneProbeInHalfOpen(t *testing.T) {
	t.Parallel()
	f, release := newFlaky(), make(chan struct{})
	srv, got := transporttest.Serve(t, func(w http.ResponseWriter, r *http.Request) {
		if f.status.Load() == http.StatusOK {
			<-release
		}
		f.answer(w, r)
	})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before srv.Close, even when the test fails early
	n := newNotifier(t, wpcom.Opts{URL: srv.URL, OpenTimeout: 50 * time.Millisecond})
	fail(t, n, got, wpcom.DefaultFailureThreshold)
	eventually(t, "half-open", func() bool { return n.State() == wpcom.StateHalfOpen })
	f.status.Store(http.StatusOK)
	probe := make(chan error, 1)
	go func() {
		_, err := n.NotifyStatusChange(t.Context(), running())
		probe <- err
	}()
	transporttest.Next(t, got) // the probe is at the receiver
	_, err := n.NotifyStatusChange(t.Context(), confirmedDown())
	if d := deferred(t, err); d.RetryAfter != time.Second {
		t.Errorf("RetryAfter during the probe = %v, want 1s", d.RetryAfter)
	}
	transporttest.None(t, got)
	unblock()
	if err := <-probe; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s := n.State(); s != wpcom.StateClosed {
		t.Errorf("after a successful probe the breaker is %s, want closed", s)
	}
}

// TestBreakerIgnoresCancelledContext: a caller giving up is not WPCOM failing.
func TestBreakerIgnoresCancelledContext(t *testing.T) {
	t.Parallel()
	srv, _ := transporttest.Serve(t, newFlaky().answer)
	n := newNotifier(t, wpcom.Opts{URL: srv.URL})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 2 * wpcom.DefaultFailureThreshold {
		if _, err := n.NotifyStatusChange(ctx, running()); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	if s := n.State(); s != wpcom.StateClosed {
		t.Errorf("after cancelled sends the breaker is %s, want closed", s)
	}
}
