package prober

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The fakes satisfy the prober's ports.
var (
	_ AssignmentWatcher = (*fakeAssignments)(nil)
	_ SiteWatcher       = (*fakeSites)(nil)
	_ Publisher         = (*fakePublisher)(nil)
	_ Checker           = (*fakeChecker)(nil)
)

// errDown is what the fake publisher returns while NATS is "unreachable".
var errDown = errors.New("nats: no servers available")

// fakeAssignments hands the prober a test-owned channel.
type fakeAssignments struct {
	mu sync.Mutex
	ch chan uptime.Assignment
}

func (f *fakeAssignments) WatchAssignment(context.Context, string) (<-chan uptime.Assignment, error) {
	return f.current(), nil
}

func (f *fakeAssignments) current() chan uptime.Assignment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

// reopen ends the current watch channel; the next watch gets a new one.
func (f *fakeAssignments) reopen() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.ch)
	f.ch = make(chan uptime.Assignment)
}

// fakeWatch is one WatchBuckets call; done closes when its ctx ends.
type fakeWatch struct {
	buckets []int
	events  chan SiteEvent
	done    <-chan struct{}
}

func (w *fakeWatch) cancelled() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// fakeSites records every watch the prober opens.
type fakeSites struct {
	mu      sync.Mutex
	watches []*fakeWatch
}

func (f *fakeSites) WatchBuckets(ctx context.Context, buckets []int) (<-chan SiteEvent, error) {
	w := &fakeWatch{buckets: slices.Clone(buckets), events: make(chan SiteEvent), done: ctx.Done()}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watches = append(f.watches, w)
	return w.events, nil
}

func (f *fakeSites) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watches)
}

func (f *fakeSites) watch(t *testing.T, i int) *fakeWatch {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.watches) {
		t.Fatalf("watch %d not opened (%d watches)", i, len(f.watches))
	}
	return f.watches[i]
}

// fakePublisher stores results; while down (or for its first failFirst
// attempts) it fails like an unreachable NATS.
type fakePublisher struct {
	mu        sync.Mutex
	down      bool
	failFirst int
	attempts  []time.Time
	results   []uptime.ProbeResult
}

func (f *fakePublisher) Publish(_ context.Context, r uptime.ProbeResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, time.Now())
	if f.down || len(f.attempts) <= f.failFirst {
		return errDown
	}
	f.results = append(f.results, r)
	return nil
}

func (f *fakePublisher) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakePublisher) published() []uptime.ProbeResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.results)
}

func (f *fakePublisher) of(blogID int64) []uptime.ProbeResult {
	var out []uptime.ProbeResult
	for _, r := range f.published() {
		if r.BlogID == blogID {
			out = append(out, r)
		}
	}
	return out
}

// fakeChecker answers per blog id from a script (default: success) after
// delay, and records when each check started and how many ran at once.
type fakeChecker struct {
	mu         sync.Mutex
	script     map[int64]func(n int) bool // n: 0-based index of the site's check
	delay      time.Duration
	calls      map[int64][]time.Time
	specs      map[int64][]uptime.CheckSpec
	running    int
	maxRunning int
}

func newFakeChecker() *fakeChecker {
	return &fakeChecker{
		script: map[int64]func(int) bool{},
		calls:  map[int64][]time.Time{},
		specs:  map[int64][]uptime.CheckSpec{},
	}
}

func (f *fakeChecker) Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result {
	now := time.Now()
	f.mu.Lock()
	n := len(f.calls[spec.BlogID])
	f.calls[spec.BlogID] = append(f.calls[spec.BlogID], now)
	f.specs[spec.BlogID] = append(f.specs[spec.BlogID], spec)
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	outcome, scripted := f.script[spec.BlogID]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	res := uptime.Result{BlogID: spec.BlogID, URL: spec.URL, Method: "GET", CheckedAt: now}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			res.ErrorCode = uptime.ErrorTimeout
			return res
		}
	}
	if !scripted || outcome(n) {
		res.Success, res.HTTPCode = true, 200
	} else {
		res.ErrorCode = uptime.ErrorConnect
	}
	return res
}

func (f *fakeChecker) times(blogID int64) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[blogID])
}

func (f *fakeChecker) specsOf(blogID int64) []uptime.CheckSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.specs[blogID])
}

func (f *fakeChecker) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += len(c)
	}
	return n
}

// harness is a running Prober wired to fakes, inside a synctest bubble.
type harness struct {
	p      *Prober
	reg    *prometheus.Registry
	assign *fakeAssignments
	sites  *fakeSites
	pub    *fakePublisher
	chk    *fakeChecker
	cancel context.CancelFunc
	errc   chan error
}

// start runs a Prober with fakes; adjust may change Opts (and the fakes)
// first. It must be called inside synctest.Test.
func start(t *testing.T, adjust func(*Opts, *harness)) *harness {
	t.Helper()
	h := &harness{
		reg:    prometheus.NewPedanticRegistry(),
		assign: &fakeAssignments{ch: make(chan uptime.Assignment)},
		sites:  &fakeSites{},
		pub:    &fakePublisher{},
		chk:    newFakeChecker(),
		errc:   make(chan error, 1),
	}
	opts := Opts{
		NodeID: "p1", Region: "eu", Registerer: h.reg,
		Assignments: h.assign, Sites: h.sites, Publisher: h.pub, Checker: h.chk,
	}
	if adjust != nil {
		adjust(&opts, h)
	}
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.p = p
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	go func() { h.errc <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-h.errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	synctest.Wait()
	return h
}

// stop cancels Run and waits for it to return, reporting how long the drain took.
func (h *harness) stop(t *testing.T) time.Duration {
	t.Helper()
	begin := time.Now()
	h.cancel()
	if err := <-h.errc; err != nil {
		t.Errorf("Run: %v", err)
	}
	h.errc <- nil // for Cleanup
	return time.Since(begin)
}

// assignment sends an assignment of ranges and lets the prober act on it.
func (h *harness) assignment(epoch uint64, ranges ...uptime.BucketRange) {
	h.assign.current() <- uptime.Assignment{NodeID: "p1", Region: "eu", Epoch: epoch, Ranges: ranges}
	synctest.Wait()
}

// send delivers events on watch w, failing if the prober stopped it.
func send(t *testing.T, w *fakeWatch, events ...SiteEvent) {
	t.Helper()
	for _, ev := range events {
		select {
		case w.events <- ev:
		case <-w.done:
			t.Fatalf("watch %v cancelled before event %+v", w.buckets, ev)
		}
	}
	synctest.Wait()
}

// upsert and synced build SiteEvents.
func upsert(s uptime.Site) SiteEvent {
	return SiteEvent{Site: s, Bucket: s.Bucket, BlogID: s.BlogID}
}

func synced() SiteEvent { return SiteEvent{Synced: true} }

func site(blogID int64, bucket int, interval time.Duration) uptime.Site {
	url := "http://site" + strconv.FormatInt(blogID, 10) + ".test/"
	return uptime.Site{
		BlogID: blogID, Bucket: bucket, CheckInterval: interval,
		Spec: uptime.CheckSpec{BlogID: blogID, URL: url},
	}
}

func r(lo, hi int) uptime.BucketRange { return uptime.BucketRange{Min: lo, Max: hi} }

// aligned reports whether t is one of blogID's due times at interval.
func aligned(t time.Time, blogID int64, interval time.Duration) bool {
	return (t.UnixNano()-int64(phaseOf(blogID, interval)))%int64(interval) == 0
}

// metricValue reads a counter, gauge or histogram sample count from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchLabels(m, labels) {
				return sampleOf(m)
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func matchLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sampleOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	default:
		return 0
	}
}
