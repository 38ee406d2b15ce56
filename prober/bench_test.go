package prober_test

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
	"github.com/jetmon-mesh/jetmon/prober"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// benchWindow is how long BenchmarkProberSites measures, after sites are
// loaded. Due times are phase-spread from the first second, so the load is
// steady: a third of a real 60 s interval gives the rate and check-age
// distribution of a whole one.
const benchWindow = 20 * time.Second

// BenchmarkProberSites holds N sites at a real 60 s interval and checks
// them for benchWindow through package check against a local `jetmon
// testsite` fleet (in this process, sharing the CPUs), with the default
// MAX_CONCURRENT_CHECKS and check connection limit. It reports the checks
// per second achieved, the 60 s-equivalent site count that rate sustains,
// the p99 and max check age (start minus due time), the median check round
// trip and the failure rate.
// "sites=50000" is the target; "sites=200000" offers four times
// that to find where the machine saturates; the no-op checker case shows
// the prober's own ceiling without HTTP.
func BenchmarkProberSites(b *testing.B) {
	cases := []struct {
		name  string
		sites int
		http  bool
	}{
		{"sites=50000", 50_000, true},
		{"sites=200000", 200_000, true},
		// The prober's own ceiling: scheduling, result queue and publish
		// workers with a checker that answers at once.
		{"noop-checker-sites=1000000", 1_000_000, false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var checker prober.Checker = noopChecker{}
			bases := []string{"https://www.example-site.com"}
			if tc.http {
				checker, bases = httpChecker(b), startFleet(b)
			}
			for range b.N {
				m := measureSites(b, tc.sites, checker, bases)
				b.ReportMetric(m.checksPerSec, "checks/s")
				b.ReportMetric(m.checksPerSec*60, "sites/60s")
				b.ReportMetric(float64(m.p99.Milliseconds()), "p99-age-ms")
				b.ReportMetric(float64(m.maxAge.Milliseconds()), "max-age-ms")
				b.ReportMetric(float64(m.rttP50.Microseconds())/1000, "rtt-p50-ms")
				b.ReportMetric(100*m.failedFrac, "failed-%")
			}
		})
	}
}

// BenchmarkProberMemory reports the heap a prober holds per 10,000 sites
// (schedule entries, heap slots, cache map and specs with realistic URLs).
func BenchmarkProberMemory(b *testing.B) {
	const sites = 10_000
	for range b.N {
		b.ReportMetric(float64(heapPerSites(b, sites)), "bytes/10k-sites")
	}
}

type siteMeasure struct {
	checksPerSec float64
	p99, maxAge  time.Duration
	rttP50       time.Duration // the check's own round trip, for the limiting factor
	failedFrac   float64
}

// startFleet runs a testsite fleet on four loopback ports and returns one
// base URL per port; sites spread over them.
func startFleet(b *testing.B) []string {
	b.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", ExtraAddrs: []string{"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	errc := make(chan error, 1)
	go func() { errc <- fleet.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			b.Errorf("testsite: %v", err)
		}
	})
	if err := fleet.WaitReady(b.Context()); err != nil {
		b.Fatal(err)
	}
	info := fleet.Info()
	urls := []string{"http://" + info.Addr}
	for _, a := range info.ExtraAddrs {
		urls = append(urls, "http://"+a)
	}
	return urls
}

// httpChecker is package check's Checker with its defaults.
func httpChecker(b *testing.B) prober.Checker {
	b.Helper()
	c, err := check.New(check.Opts{Timeout: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// noopChecker succeeds at once without any I/O.
type noopChecker struct{}

func (noopChecker) Check(_ context.Context, spec uptime.CheckSpec) uptime.Result {
	return uptime.Result{BlogID: spec.BlogID, URL: spec.URL, Success: true, HTTPCode: 200, CheckedAt: time.Now()}
}

// measureSites runs sites at a 60 s interval, URLs spread over bases, and
// measures benchWindow of their checks.
func measureSites(b *testing.B, sites int, checker prober.Checker, bases []string) siteMeasure {
	const interval = time.Minute
	b.Helper()
	pub := &agePublisher{}
	p, stop := runProber(b, prober.Opts{
		Checker: checker, Publisher: pub, MinCheckInterval: interval,
	}, generate(sites, interval, bases))
	waitSites(b, p, sites)
	pub.open(time.Now())
	time.Sleep(benchWindow) // the measurement itself: real checks over real time
	pub.close(time.Now())
	stop() // the drain publishes the window's last results
	return pub.summary(benchWindow)
}

// heapPerSites measures the live heap n sites add to a prober: a prober
// holding n sites minus an empty one (its fixed cost: metrics, buffers).
// Both have one check slot, taken by a check that never ends, and a result
// buffer of one, so nothing but the held sites differs.
func heapPerSites(b *testing.B, n int) uint64 {
	b.Helper()
	opts := prober.Opts{Checker: blockingChecker{}, Publisher: &agePublisher{}, MaxConcurrentChecks: 1, ResultBuffer: 1,
		ShutdownTimeout: 10 * time.Millisecond,
	}
	base := liveHeap()
	empty, stopEmpty := runProber(b, opts, nil)
	defer stopEmpty()
	waitBuckets(b, empty)
	mid := liveHeap()
	full, stopFull := runProber(b, opts, generate(n, time.Minute, []string{"https://www.example-site.com"}))
	defer stopFull()
	waitSites(b, full, n)
	waitBuckets(b, full)
	after := liveHeap()
	return (after - mid) - (mid - base)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// runProber starts a prober on bucket 0 whose site watch sends sites(...)
// then Synced; stop cancels it and waits for Run.
func runProber(b *testing.B, o prober.Opts, sites iter.Seq[uptime.Site]) (*prober.Prober, func()) {
	b.Helper()
	o.NodeID, o.Region, o.Registerer = "bench", "local", prometheus.NewRegistry()
	o.Assignments = oneAssignment{}
	o.Sites = generatedSites{sites: sites}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 2 * time.Second
	}
	p, err := prober.New(o)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			b.Errorf("Run: %v", err)
		}
	}()
	return p, func() {
		cancel()
		<-done
	}
}

// waitBuckets polls until the prober applied its assignment.
func waitBuckets(b *testing.B, p *prober.Prober) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.Stats()["buckets"] < 1 {
		if time.Now().After(deadline) {
			b.Fatal("prober did not apply its assignment within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSites polls until the prober holds n sites.
func waitSites(b *testing.B, p *prober.Prober, n int) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.Stats()["sites"] < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("prober holds %d of %d sites after a minute", p.Stats()["sites"], n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// generate yields n sites of bucket 0 with URLs spread over bases.
func generate(n int, interval time.Duration, bases []string) iter.Seq[uptime.Site] {
	return func(yield func(uptime.Site) bool) {
		for i := range n {
			id := int64(1_000_000 + i)
			url := fmt.Sprintf("%s/s/site-%d/", bases[i%len(bases)], id)
			if !yield(uptime.Site{BlogID: id, CheckInterval: interval, Spec: uptime.CheckSpec{BlogID: id, URL: url}}) {
				return
			}
		}
	}
}

// oneAssignment assigns bucket 0, once.
type oneAssignment struct{}

func (oneAssignment) WatchAssignment(context.Context, string) (<-chan uptime.Assignment, error) {
	ch := make(chan uptime.Assignment, 1)
	ch <- uptime.Assignment{Epoch: 1, Ranges: []uptime.BucketRange{{Min: 0, Max: 0}}}
	return ch, nil
}

// generatedSites sends the generated sites, then Synced, then nothing.
type generatedSites struct{ sites iter.Seq[uptime.Site] }

func (g generatedSites) WatchBuckets(ctx context.Context, _ []int) (<-chan prober.SiteEvent, error) {
	ch := make(chan prober.SiteEvent)
	go func() {
		send := func(ev prober.SiteEvent) bool {
			select {
			case ch <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if g.sites != nil {
			for s := range g.sites {
				if !send(prober.SiteEvent{Site: s, Bucket: s.Bucket, BlogID: s.BlogID}) {
					return
				}
			}
		}
		send(prober.SiteEvent{Synced: true})
	}()
	return ch, nil
}

// blockingChecker never finishes a check before shutdown.
type blockingChecker struct{}

func (blockingChecker) Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result {
	<-ctx.Done()
	return uptime.Result{BlogID: spec.BlogID}
}

// agePublisher records the check age of results that started within the
// measurement window.
type agePublisher struct {
	mu       sync.Mutex
	from, to time.Time
	ages     []time.Duration
	rtts     []time.Duration
	failed   atomic.Int64
}

func (a *agePublisher) Publish(_ context.Context, r uptime.ProbeResult) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.from.IsZero() || r.CheckedAt.Before(a.from) || (!a.to.IsZero() && !r.CheckedAt.Before(a.to)) {
		return nil
	}
	a.ages = append(a.ages, r.CheckedAt.Sub(r.DueAt))
	a.rtts = append(a.rtts, r.RTT)
	if r.IsFailure() {
		a.failed.Add(1)
	}
	return nil
}

func (a *agePublisher) open(at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.from = at
}

func (a *agePublisher) close(at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.to = at
}

func (a *agePublisher) summary(window time.Duration) siteMeasure {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.ages) == 0 {
		return siteMeasure{}
	}
	ages, rtts := slices.Sorted(slices.Values(a.ages)), slices.Sorted(slices.Values(a.rtts))
	return siteMeasure{
		checksPerSec: float64(len(ages)) / window.Seconds(),
		p99:          ages[len(ages)*99/100],
		maxAge:       ages[len(ages)-1],
		rttP50:       rtts[len(rtts)/2],
		failedFrac:   float64(a.failed.Load()) / float64(len(ages)),
	}
}
