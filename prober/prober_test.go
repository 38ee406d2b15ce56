package prober

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	valid := func() Opts {
		return Opts{
			NodeID: "p1", Region: "eu", Registerer: prometheus.NewPedanticRegistry(),
			Assignments: &fakeAssignments{}, Sites: &fakeSites{}, Publisher: &fakePublisher{}, Checker: newFakeChecker(),
		}
	}
	tests := map[string]struct {
		change  func(*Opts)
		wantErr string
	}{
		"valid":                 {change: func(*Opts) {}},
		"no node id":            {change: func(o *Opts) { o.NodeID = "" }, wantErr: "node id is required"},
		"no region":             {change: func(o *Opts) { o.Region = "" }, wantErr: "region is required"},
		"no registerer":         {change: func(o *Opts) { o.Registerer = nil }, wantErr: "registerer is required"},
		"no checker":            {change: func(o *Opts) { o.Checker = nil }, wantErr: "checker are required"},
		"no site watcher":       {change: func(o *Opts) { o.Sites = nil }, wantErr: "sites, publisher"},
		"negative interval":     {change: func(o *Opts) { o.MinCheckInterval = -time.Second }, wantErr: "min check interval -1s"},
		"negative retries":      {change: func(o *Opts) { o.NumOfChecks = -1 }, wantErr: "num of checks -1"},
		"negative buffer":       {change: func(o *Opts) { o.ResultBuffer = -1 }, wantErr: "result buffer -1"},
		"negative shutdown":     {change: func(o *Opts) { o.ShutdownTimeout = -1 }, wantErr: "shutdown timeout"},
		"negative workers":      {change: func(o *Opts) { o.PublishWorkers = -2 }, wantErr: "publish workers -2"},
		"negative concurrency":  {change: func(o *Opts) { o.MaxConcurrentChecks = -3 }, wantErr: "max concurrent checks -3"},
		"negative retry period": {change: func(o *Opts) { o.TimeBetweenChecks = -time.Second }, wantErr: "time between checks"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := valid()
			tc.change(&o)
			p, err := New(o)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				checkDefaults(t, p.opts)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func checkDefaults(t *testing.T, o Opts) {
	t.Helper()
	if o.MinCheckInterval != DefaultMinCheckInterval || o.TimeBetweenChecks != DefaultTimeBetweenChecks ||
		o.NumOfChecks != DefaultNumOfChecks || o.MaxConcurrentChecks != DefaultMaxConcurrentChecks ||
		o.ResultBuffer != DefaultResultBuffer || o.PublishWorkers != DefaultPublishWorkers ||
		o.ShutdownTimeout != DefaultShutdownTimeout || o.Logger == nil || o.Now == nil {
		t.Errorf("defaults not applied: %+v", o)
	}
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, nil)
		if err := h.p.Run(t.Context()); !errors.Is(err, ErrAlreadyRun) {
			t.Fatalf("second Run: %v, want ErrAlreadyRun", err)
		}
	})
}

// Every check of a site happens at its phase-aligned times, one interval
// apart, with the interval floored at MinCheckInterval.
func TestChecksFollowThePhase(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		siteInterval time.Duration
		wantInterval time.Duration
	}{
		"site interval above the floor": {2 * time.Minute, 2 * time.Minute},
		"site interval at the floor":    {time.Minute, time.Minute},
		"site interval under the floor": {10 * time.Second, time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				h := start(t, func(o *Opts, _ *harness) { o.MinCheckInterval = time.Minute })
				h.assignment(1, r(0, 9))
				var ids []int64
				for id := int64(1); id <= 20; id++ {
					ids = append(ids, id)
					send(t, h.sites.watch(t, 0), upsert(site(id, int(id%10), tc.siteInterval)))
				}
				send(t, h.sites.watch(t, 0), synced())
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				for _, id := range ids {
					checkRhythm(t, id, h.chk.times(id), tc.wantInterval, int(10*time.Minute/tc.wantInterval))
				}
			})
		})
	}
}

// checkRhythm asserts that times are aligned for blogID, exactly interval
// apart, and about as many as expected (±1 for where the window cuts).
func checkRhythm(t *testing.T, blogID int64, times []time.Time, interval time.Duration, want int) {
	t.Helper()
	if len(times) < want-1 || len(times) > want+1 {
		t.Errorf("site %d checked %d times, want %d ± 1", blogID, len(times), want)
	}
	for i, at := range times {
		if !aligned(at, blogID, interval) {
			t.Errorf("site %d check %d at %v is off its phase", blogID, i, at)
		}
		if i > 0 && at.Sub(times[i-1]) != interval {
			t.Errorf("site %d checks %d and %d are %v apart, want %v", blogID, i-1, i, at.Sub(times[i-1]), interval)
		}
	}
}

// After a failure the site is re-checked every TimeBetweenChecks until it
// succeeds or fails NumOfChecks times in a row, then goes back to its
// phase-aligned interval; Failures counts consecutive failures.
func TestRetryCadence(t *testing.T) {
	t.Parallel()
	const tbc, interval = 30 * time.Second, 5 * time.Minute
	tests := map[string]struct {
		outcome      func(n int) bool
		wantOffsets  []time.Duration // from the first check
		wantFailures []int
	}{
		"down for good": {
			outcome:      func(int) bool { return false },
			wantOffsets:  []time.Duration{0, tbc, 2 * tbc, interval, 2 * interval, 3 * interval},
			wantFailures: []int{1, 2, 3, 4, 5, 6},
		},
		"one blip": {
			outcome:      func(n int) bool { return n != 0 },
			wantOffsets:  []time.Duration{0, tbc, interval, 2 * interval},
			wantFailures: []int{1, 0, 0, 0},
		},
		"two blips, a success, a blip": {
			outcome:      func(n int) bool { return n == 2 || n > 3 },
			wantOffsets:  []time.Duration{0, tbc, 2 * tbc, interval, interval + tbc, 2 * interval},
			wantFailures: []int{1, 2, 0, 1, 0, 0},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				h := start(t, func(o *Opts, h *harness) {
					o.MinCheckInterval, o.TimeBetweenChecks, o.NumOfChecks = time.Minute, tbc, 3
					h.chk.script[7] = tc.outcome
				})
				h.assignment(1, r(0, 0))
				first := alignedAtOrAfter(time.Now(), phaseOf(7, interval), interval)
				send(t, h.sites.watch(t, 0), upsert(site(7, 0, interval)), synced())
				time.Sleep(time.Until(first) + tc.wantOffsets[len(tc.wantOffsets)-1] + time.Second)
				synctest.Wait()
				times := h.chk.times(7)
				if len(times) != len(tc.wantOffsets) {
					t.Fatalf("checked %d times at %v, want %d", len(times), offsets(times), len(tc.wantOffsets))
				}
				for i, want := range tc.wantOffsets {
					if got := times[i].Sub(times[0]); got != want {
						t.Errorf("check %d at +%v, want +%v", i, got, want)
					}
				}
				results := h.pub.of(7)
				for i, res := range results {
					if i < len(tc.wantFailures) && res.Failures != tc.wantFailures[i] {
						t.Errorf("result %d Failures %d, want %d", i, res.Failures, tc.wantFailures[i])
					}
					if !res.DueAt.Equal(res.CheckedAt) {
						t.Errorf("result %d due %v but checked %v with free slots", i, res.DueAt, res.CheckedAt)
					}
				}
				if !aligned(times[0], 7, interval) {
					t.Errorf("first check at %v is off its phase", times[0])
				}
			})
		})
	}
}

func offsets(times []time.Time) []time.Duration {
	out := make([]time.Duration, len(times))
	for i, at := range times {
		out[i] = at.Sub(times[0])
	}
	return out
}

// MaxConcurrentChecks bounds the checks running at once. An overloaded
// prober runs checks late rather than skipping them: lateness shows in the
// check-age histogram and the schedule-lag gauge, every site keeps being
// checked, and a site whose next slot passed meanwhile is counted.
func TestConcurrencyBoundAndLateness(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const sites = 40
		h := start(t, func(o *Opts, h *harness) {
			o.MinCheckInterval, o.MaxConcurrentChecks = time.Minute, 4
			h.chk.delay = 8 * time.Second // 40 × 8 s of work per minute on 4 slots: 1.33× overloaded
		})
		h.assignment(1, r(0, 0))
		for id := int64(1); id <= sites; id++ {
			send(t, h.sites.watch(t, 0), upsert(site(id, 0, time.Minute)))
		}
		send(t, h.sites.watch(t, 0), synced())
		time.Sleep(6 * time.Minute)
		synctest.Wait()
		if lag := metricValue(t, h.reg, "jetmon_prober_schedule_lag_seconds"); lag <= 0 {
			t.Errorf("schedule lag %v while overloaded, want > 0", lag)
		}
		h.chk.mu.Lock()
		maxRunning := h.chk.maxRunning
		h.chk.mu.Unlock()
		if maxRunning != 4 {
			t.Errorf("at most %d checks ran at once, want exactly the bound 4", maxRunning)
		}
		for id := int64(1); id <= sites; id++ {
			if n := len(h.chk.times(id)); n < 2 {
				t.Errorf("site %d checked %d times in 6 min, want every site checked repeatedly", id, n)
			}
		}
		if got := metricValue(t, h.reg, "jetmon_prober_missed_slots_total"); got == 0 {
			t.Error("no missed slots counted while overloaded for 6 intervals")
		}
		if got := metricValue(t, h.reg, "jetmon_prober_check_age_seconds"); got != float64(h.chk.total()) {
			t.Errorf("check age observed %v times, want once per check (%d)", got, h.chk.total())
		}
	})
}

// On-demand checks are answered with the prober's Checker; a failing check
// server stops Run with its error.
func TestOnDemandChecks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv := newFakeCheckServer()
		h := start(t, func(o *Opts, h *harness) {
			o.CheckServer = srv
			h.chk.script[99] = func(int) bool { return false }
		})
		if node := <-srv.nodes; node != "p1" {
			t.Errorf("served for node %q, want p1", node)
		}
		srv.asks <- uptime.CheckSpec{BlogID: 99, URL: "http://x.test/"}
		if res := <-srv.answers; res.BlogID != 99 || res.Success || len(h.chk.times(99)) != 1 {
			t.Errorf("on-demand answer %+v, want the checker's failure for 99", res)
		}
		srv.fail <- errDown
		if err := <-h.errc; !errors.Is(err, errDown) {
			t.Errorf("Run returned %v, want the check server's error", err)
		}
		h.errc <- nil
	})
}

// fakeCheckServer calls the handler when asked, and fails when told.
type fakeCheckServer struct {
	nodes   chan string
	asks    chan uptime.CheckSpec
	answers chan uptime.Result
	fail    chan error
}

func newFakeCheckServer() *fakeCheckServer {
	return &fakeCheckServer{
		nodes: make(chan string, 1), asks: make(chan uptime.CheckSpec),
		answers: make(chan uptime.Result, 1), fail: make(chan error),
	}
}

func (f *fakeCheckServer) ServeChecks(ctx context.Context, nodeID string, handle func(context.Context, uptime.CheckSpec) uptime.Result) error {
	f.nodes <- nodeID
	for {
		select {
		case <-ctx.Done():
			return nil
		case spec := <-f.asks:
			f.answers <- handle(ctx, spec)
		case err := <-f.fail:
			return err
		}
	}
}

// Metrics carry no per-site label, and Stats reports what presence needs.
func TestMetricsAndStats(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, func(_ *Opts, h *harness) { h.chk.script[2] = func(int) bool { return false } })
		h.assignment(1, r(0, 4))
		send(t, h.sites.watch(t, 0), upsert(site(1, 0, time.Minute)), upsert(site(2, 3, time.Minute)), synced())
		time.Sleep(time.Minute)
		synctest.Wait()
		wantStats := map[string]int64{"sites": 2, "buckets": 5, "checks": 2, "drops": 0}
		for k, want := range wantStats {
			if got := h.p.Stats()[k]; got != want {
				t.Errorf("Stats()[%q] = %d, want %d", k, got, want)
			}
		}
		checks := map[string]float64{
			"jetmon_prober_sites":                   2,
			"jetmon_prober_buckets":                 5,
			"jetmon_prober_results_published_total": 2,
			"jetmon_prober_result_buffer":           0,
		}
		for name, want := range checks {
			if got := metricValue(t, h.reg, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if got := metricValue(t, h.reg, "jetmon_prober_checks_total", "outcome", "failure"); got != 1 {
			t.Errorf("failures %v, want 1", got)
		}
		mfs, err := h.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() != "outcome" {
						t.Errorf("%s has label %q: only bounded labels allowed", mf.GetName(), lp.GetName())
					}
				}
			}
		}
	})
}
