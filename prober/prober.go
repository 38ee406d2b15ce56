package prober

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero-valued Opts fields. The scheduling ones
// match the config defaults of the same names.
const (
	DefaultShutdownTimeout     = 5 * time.Second
	DefaultMinCheckInterval    = 60 * time.Second // MIN_CHECK_INTERVAL_SEC
	DefaultTimeBetweenChecks   = 30 * time.Second // TIME_BETWEEN_CHECKS_SEC
	DefaultNumOfChecks         = 3                // NUM_OF_CHECKS
	DefaultMaxConcurrentChecks = 500              // MAX_CONCURRENT_CHECKS
	DefaultResultBuffer        = 100_000          // RESULT_BUFFER
	DefaultPublishWorkers      = 32
)

// Opts configures the prober role. NodeID, Region, Registerer, Assignments,
// Sites, Publisher and Checker are required; zero numbers and durations take
// the Default* values; negative ones are rejected.
type Opts struct {
	NodeID     string
	Region     string
	Logger     *slog.Logger // default: discard
	Registerer prometheus.Registerer
	// ShutdownTimeout bounds Run's drain after ctx ends: in-flight checks
	// finish and the result buffer is flushed within it.
	ShutdownTimeout time.Duration

	Assignments AssignmentWatcher
	Sites       SiteWatcher
	Publisher   Publisher
	Checker     Checker
	// CheckServer, when set, answers on-demand checks with Checker. They
	// run outside the schedule and MaxConcurrentChecks (the Checker's own
	// connection limit still applies).
	CheckServer CheckServer

	// MinCheckInterval floors every site's check interval.
	MinCheckInterval time.Duration
	// TimeBetweenChecks is the delay of a re-check after a failure.
	TimeBetweenChecks time.Duration
	// NumOfChecks is how many consecutive failures are re-checked quickly
	// before the site goes back to its interval.
	NumOfChecks int
	// MaxConcurrentChecks bounds the scheduled checks running at once.
	MaxConcurrentChecks int
	// ResultBuffer bounds the results waiting to be published; when full the
	// oldest is dropped.
	ResultBuffer int
	// PublishWorkers is how many results are published at once.
	PublishWorkers int
	// Now is the wall clock of due times (default time.Now). It must advance
	// with the runtime's timers: tests use testing/synctest rather than a
	// hand-driven clock.
	Now func() time.Time
}

// withDefaults validates o and fills zero fields.
func (o Opts) withDefaults() (Opts, error) {
	switch {
	case o.NodeID == "":
		return o, errors.New("node id is required")
	case o.Region == "":
		return o, errors.New("region is required")
	case o.Registerer == nil:
		return o, errors.New("registerer is required")
	case o.Assignments == nil || o.Sites == nil || o.Publisher == nil || o.Checker == nil:
		return o, errors.New("assignments, sites, publisher and checker are required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"shutdown timeout", o.ShutdownTimeout},
		{"min check interval", o.MinCheckInterval},
		{"time between checks", o.TimeBetweenChecks},
	} {
		if d.v < 0 {
			return o, fmt.Errorf("%s %v: must not be negative", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"num of checks", o.NumOfChecks},
		{"max concurrent checks", o.MaxConcurrentChecks},
		{"result buffer", o.ResultBuffer},
		{"publish workers", o.PublishWorkers},
	} {
		if n.v < 0 {
			return o, fmt.Errorf("%s %d: must not be negative", n.name, n.v)
		}
	}
	o.ShutdownTimeout = orDefault(o.ShutdownTimeout, DefaultShutdownTimeout)
	o.MinCheckInterval = orDefault(o.MinCheckInterval, DefaultMinCheckInterval)
	o.TimeBetweenChecks = orDefault(o.TimeBetweenChecks, DefaultTimeBetweenChecks)
	o.NumOfChecks = orDefault(o.NumOfChecks, DefaultNumOfChecks)
	o.MaxConcurrentChecks = orDefault(o.MaxConcurrentChecks, DefaultMaxConcurrentChecks)
	o.ResultBuffer = orDefault(o.ResultBuffer, DefaultResultBuffer)
	o.PublishWorkers = orDefault(o.PublishWorkers, DefaultPublishWorkers)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Prober is the prober role: it follows its assignment, holds the sites of
// its buckets, checks each on its phase-aligned schedule and publishes every
// result.
type Prober struct {
	opts    Opts
	log     *slog.Logger
	metrics *metrics
	queue   *resultQueue
	started atomic.Bool

	// Read by Stats and the lag gauge from other goroutines.
	sites     atomic.Int64
	buckets   atomic.Int64
	checks    atomic.Int64
	drops     atomic.Int64
	oldestDue atomic.Int64 // Unix nanoseconds of the next queued due time; 0 when none
}

// New validates opts and registers the prober's metrics; it does no I/O.
func New(opts Opts) (*Prober, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("prober opts: %w", err)
	}
	p := &Prober{opts: opts, log: opts.Logger.With("component", "prober", "region", opts.Region)}
	p.queue = newResultQueue(opts.ResultBuffer, p.drop)
	p.metrics, err = newMetrics(opts.Registerer, p.scheduleLag, func() float64 { return float64(p.queue.len()) })
	if err != nil {
		return nil, fmt.Errorf("prober: %w", err)
	}
	return p, nil
}

// Stats are the counters a prober announces in its presence heartbeat:
// sites and buckets held, scheduled checks run, results dropped.
func (p *Prober) Stats() map[string]int64 {
	return map[string]int64{
		"sites":   p.sites.Load(),
		"buckets": p.buckets.Load(),
		"checks":  p.checks.Load(),
		"drops":   p.drops.Load(),
	}
}

// drop counts n results lost without being published.
func (p *Prober) drop(n int) {
	p.drops.Add(int64(n))
	p.metrics.dropped.Add(float64(n))
}

// scheduleLag is how long the oldest queued check has been overdue, in
// seconds (0 when nothing is overdue).
func (p *Prober) scheduleLag() float64 {
	due := p.oldestDue.Load()
	if due == 0 {
		return 0
	}
	return max(0, p.opts.Now().Sub(time.Unix(0, due)).Seconds())
}
