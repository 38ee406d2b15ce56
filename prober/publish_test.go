package prober

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestResultQueueDropsOldest(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		size, pushed int
		wantKept     []int64
		wantDropped  int
	}{
		"under capacity": {size: 3, pushed: 2, wantKept: []int64{1, 2}},
		"at capacity":    {size: 3, pushed: 3, wantKept: []int64{1, 2, 3}},
		"overflow":       {size: 3, pushed: 7, wantKept: []int64{5, 6, 7}, wantDropped: 4},
		"size one":       {size: 1, pushed: 4, wantKept: []int64{4}, wantDropped: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dropped := 0
			q := newResultQueue(tc.size, func(n int) { dropped += n })
			for id := int64(1); id <= int64(tc.pushed); id++ {
				q.push(&uptime.ProbeResult{Result: uptime.Result{BlogID: id}})
			}
			q.close()
			var kept []int64
			for res := range q.ch {
				kept = append(kept, res.BlogID)
			}
			if !slices.Equal(kept, tc.wantKept) || dropped != tc.wantDropped {
				t.Errorf("kept %v dropped %d, want %v and %d", kept, dropped, tc.wantKept, tc.wantDropped)
			}
		})
	}
}

// While NATS is down the buffer keeps the newest ResultBuffer results and
// counts the rest; once it is back, the buffered results are published.
func TestBufferOverflowWhileNATSDown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const sites, buffer = 20, 5
		h := start(t, func(o *Opts, h *harness) {
			o.MinCheckInterval, o.ResultBuffer, o.PublishWorkers = time.Minute, buffer, 1
			h.pub.down = true
		})
		h.assignment(1, r(0, 0))
		for id := int64(1); id <= sites; id++ {
			send(t, h.sites.watch(t, 0), upsert(site(id, 0, time.Minute)))
		}
		send(t, h.sites.watch(t, 0), synced())
		time.Sleep(time.Minute)
		synctest.Wait()

		// One result is in the worker's hands, being retried; the buffer
		// holds the newest five; the other fourteen were dropped.
		const wantDropped = sites - buffer - 1
		if got := h.p.Stats()["drops"]; got != wantDropped {
			t.Errorf("drops %d, want %d", got, wantDropped)
		}
		if got := metricValue(t, h.reg, "jetmon_prober_results_dropped_total"); got != wantDropped {
			t.Errorf("dropped_total %v, want %d", got, wantDropped)
		}
		if got := metricValue(t, h.reg, "jetmon_prober_result_buffer"); got != buffer {
			t.Errorf("result_buffer %v, want %d", got, buffer)
		}
		if got := metricValue(t, h.reg, "jetmon_prober_publish_errors_total"); got < 5 {
			t.Errorf("publish errors %v after a minute down, want the retries counted", got)
		}

		h.pub.setDown(false)
		time.Sleep(publishBackoffMax)
		synctest.Wait()
		published := h.pub.published()
		if len(published) != buffer+1 {
			t.Fatalf("published %d results after recovery, want %d", len(published), buffer+1)
		}
		order := checkOrder(h.chk, sites)
		want := append([]int64{order[0]}, order[sites-buffer:]...)
		var got []int64
		for _, res := range published {
			got = append(got, res.BlogID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("published sites %v, want the first (in hand) and the newest %d: %v", got, buffer, want)
		}
	})
}

// checkOrder lists blog ids 1..n by the time of their first check.
func checkOrder(chk *fakeChecker, n int) []int64 {
	ids := make([]int64, 0, n)
	for id := int64(1); id <= int64(n); id++ {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return chk.times(a)[0].Compare(chk.times(b)[0]) })
	return ids
}

// A failing publish is retried with exponential backoff (jittered, capped
// at publishBackoffMax) until it succeeds; the result is published once.
func TestPublishRetryBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const failures = 9
		h := start(t, func(_ *Opts, h *harness) { h.pub.failFirst = failures })
		h.assignment(1, r(0, 0))
		send(t, h.sites.watch(t, 0), upsert(site(1, 0, time.Minute)), synced())
		time.Sleep(time.Minute + time.Minute)
		synctest.Wait()

		if got := len(h.pub.of(1)); got != 2 {
			t.Fatalf("published %d results of the site, want 2 (one per check, none twice)", got)
		}
		if got := metricValue(t, h.reg, "jetmon_prober_publish_errors_total"); got != failures {
			t.Errorf("publish errors %v, want %d", got, failures)
		}
		h.pub.mu.Lock()
		attempts := slices.Clone(h.pub.attempts)
		h.pub.mu.Unlock()
		base := publishBackoffFirst
		for i := 1; i <= failures; i++ {
			gap := attempts[i].Sub(attempts[i-1])
			if gap < base/2 || gap > base {
				t.Errorf("retry %d after %v, want within [%v, %v]", i, gap, base/2, base)
			}
			base = min(2*base, publishBackoffMax)
		}
	})
}

// Shutdown: no check starts after cancel, in-flight checks finish and their
// results are flushed within ShutdownTimeout; what cannot be published or
// finished by then is dropped and counted, and Run still returns on time.
func TestGracefulDrain(t *testing.T) {
	t.Parallel()
	const timeout = 10 * time.Second
	tests := map[string]struct {
		checkTime     time.Duration
		natsDown      bool
		wantDrain     time.Duration // at most this; exactly this at the deadline
		wantPublished bool
	}{
		"in-flight checks finish and flush": {checkTime: 3 * time.Second, wantDrain: 3 * time.Second, wantPublished: true},
		"NATS down: drop at the deadline":   {checkTime: 3 * time.Second, natsDown: true, wantDrain: timeout},
		"hanging checks are cut off":        {checkTime: time.Hour, wantDrain: timeout},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				h := start(t, func(o *Opts, h *harness) {
					o.ShutdownTimeout, o.MinCheckInterval = timeout, time.Minute
					h.chk.delay, h.pub.down = tc.checkTime, tc.natsDown
				})
				h.assignment(1, r(0, 0))
				for id := int64(1); id <= 200; id++ { // a few are due in any second
					send(t, h.sites.watch(t, 0), upsert(site(id, 0, time.Minute)))
				}
				send(t, h.sites.watch(t, 0), synced())
				time.Sleep(30*time.Second + 500*time.Millisecond)
				inFlight := metricValue(t, h.reg, "jetmon_prober_checks_in_flight")
				started := h.chk.total()
				finished := metricValue(t, h.reg, "jetmon_prober_checks_total", "outcome", "success")
				stoppedAt := time.Now()
				drain := h.stop(t)
				if drain > tc.wantDrain || (tc.wantDrain == timeout && drain != timeout) {
					t.Errorf("drain took %v, want %v", drain, tc.wantDrain)
				}
				if inFlight == 0 {
					t.Fatal("no check in flight at cancel: the test proves nothing")
				}
				if h.chk.total() != started {
					t.Errorf("%d checks started after cancel", h.chk.total()-started)
				}
				checkDrainOutcome(t, h, int(finished), started, stoppedAt, tc.wantPublished)
			})
		})
	}
}

func checkDrainOutcome(t *testing.T, h *harness, finished, started int, stoppedAt time.Time, wantPublished bool) {
	t.Helper()
	published := h.pub.published()
	drops := int(h.p.Stats()["drops"])
	if !wantPublished {
		if len(published)+drops != int(h.p.Stats()["checks"]) {
			t.Errorf("published %d + dropped %d != %d checks finished", len(published), drops, h.p.Stats()["checks"])
		}
		for _, res := range published {
			if res.CheckedAt.After(stoppedAt) || !res.Success {
				t.Errorf("a cut-off check was published: %+v", res)
			}
		}
		return
	}
	if len(published) != started || drops != 0 {
		t.Errorf("published %d of %d started checks (%d finished before cancel), dropped %d; want all, none dropped",
			len(published), started, finished, drops)
	}
}
