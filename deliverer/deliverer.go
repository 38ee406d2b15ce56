package deliverer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Defaults of the optional Opts fields.
const (
	DefaultShutdownTimeout = 5 * time.Second
	DefaultSendTimeout     = 30 * time.Second
	DefaultMetricsInterval = 15 * time.Second
)

// Opts configures the deliverer role. Every interface field is required
// except WPCOM, WPCOMQueue and BreakerState; durations default when zero.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger          // default: discard
	Registerer      prometheus.Registerer // required
	ShutdownTimeout time.Duration         // bounds the drain; default 5s

	// The durable consumers of JETMON_DELIVERY.
	FanOutQueue  Queue
	WebhookQueue Queue
	AlertQueue   Queue
	WPCOMQueue   Queue // required with WPCOM
	Jobs         JobPublisher
	Backlog      Backlog
	DeadLetters  DeadLetterSource

	// The MySQL store.
	Destinations Destinations
	FanOuts      FanOutStore
	Dispatch     DispatchStore
	Lookup       DestinationStore
	DeadLetterDB DeadLetterStore

	// Codecs of the bus messages: an error marks a message malformed (dead
	// letter, Term, counted).
	DecodeTransition func([]byte) (TransitionMessage, error)
	DecodeJob        func([]byte) (Job, error)

	// The transports.
	Webhooks WebhookSender
	Alerts   map[uptime.AlertTransport]AlertSender
	// WPCOM sends legacy status changes; nil disables them: no WPCOM
	// deliveries are created and this node does not consume the wpcom
	// queue.
	WPCOM StatusNotifier
	// BreakerState reports the WPCOM breaker's state ("closed",
	// "half-open", "open") for the metric; nil exports none.
	BreakerState func() string

	// RetrySchedule is RETRY_SCHEDULE: the waits after each failed attempt;
	// a delivery gets 1+len(RetrySchedule) attempts. Required.
	RetrySchedule []time.Duration
	// SendTimeout bounds one send; the claim lease is twice as long, so a
	// lease outlives every send it covers. Default 30s.
	SendTimeout time.Duration
	// MetricsInterval is how often the backlog and breaker gauges are
	// refreshed; default 15s.
	MetricsInterval time.Duration
	// Now is the clock of every time the deliverer writes; default
	// time.Now. Deliverers' clocks must agree to well within the lease.
	Now func() time.Time
}

// Deliverer is the deliverer role: it fans transitions out to delivery rows
// and jobs, dispatches jobs with claims and retries, and records dead
// letters. Any number of deliverers share the work.
type Deliverer struct {
	opts Opts
	log  *slog.Logger
	m    *metrics
}

// New validates opts and registers the role's metrics; it does no I/O.
func New(opts Opts) (*Deliverer, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("deliverer: %w", err)
	}
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("deliverer: register metrics: %w", err)
	}
	return &Deliverer{opts: opts, log: opts.Logger.With("component", "deliverer"), m: m}, nil
}

func (o Opts) validate() error {
	required := []struct {
		missing bool
		name    string
	}{
		{o.NodeID == "", "node id"},
		{o.Registerer == nil, "registerer"},
		{o.FanOutQueue == nil || o.WebhookQueue == nil || o.AlertQueue == nil, "fanout, webhook and alert queues"},
		{o.WPCOM != nil && o.WPCOMQueue == nil, "wpcom queue (with WPCOM)"},
		{o.Jobs == nil, "job publisher"},
		{o.Backlog == nil, "backlog"},
		{o.DeadLetters == nil, "dead-letter source"},
		{o.Destinations == nil || o.FanOuts == nil || o.Dispatch == nil || o.Lookup == nil || o.DeadLetterDB == nil, "stores"},
		{o.DecodeTransition == nil || o.DecodeJob == nil, "codecs"},
		{o.Webhooks == nil, "webhook sender"},
		{len(o.RetrySchedule) == 0, "retry schedule"},
	}
	for _, r := range required {
		if r.missing {
			return fmt.Errorf("%s required", r.name)
		}
	}
	return o.validateTimings()
}

func (o Opts) validateTimings() error {
	for i, d := range o.RetrySchedule {
		if d <= 0 {
			return fmt.Errorf("retry schedule step %d: %v must be positive", i, d)
		}
	}
	if o.ShutdownTimeout < 0 || o.SendTimeout < 0 || o.MetricsInterval < 0 {
		return errors.New("durations must not be negative")
	}
	return nil
}

func (o *Opts) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.MetricsInterval == 0 {
		o.MetricsInterval = DefaultMetricsInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// lease is how long a claim holds a delivery: longer than any send.
func (r *Deliverer) lease() time.Duration { return 2 * r.opts.SendTimeout }

// bookkeeping bounds one write or acknowledgement made after the
// deliverer began stopping.
func (r *Deliverer) bookkeeping() time.Duration {
	return max(r.opts.ShutdownTimeout/4, 100*time.Millisecond)
}

// Run consumes the fan-out and dispatch queues and the dead letters, and
// refreshes the slow gauges, until ctx ends or one of them fails. Work in
// flight then gets half of ShutdownTimeout to finish; sends still running
// are cancelled and their deliveries released for another deliverer, each
// write and acknowledgement of that release bounded by a quarter of it.
func (r *Deliverer) Run(ctx context.Context) error {
	r.m.running.Set(1)
	defer r.m.running.Set(0)
	r.log.Info("deliverer started", "region", r.opts.Region, "wpcom", r.opts.WPCOM != nil,
		"retry_schedule", fmt.Sprint(r.opts.RetrySchedule))
	defer r.log.Info("deliverer stopped")

	g, gctx := errgroup.WithContext(ctx)
	work, stopWork := drainContext(gctx, r.opts.ShutdownTimeout/2)
	defer stopWork()
	consume := func(q Queue, h func(context.Context, Message)) {
		g.Go(func() error {
			return q.Consume(gctx, func(_ context.Context, m Message) { h(work, m) })
		})
	}
	consume(r.opts.FanOutQueue, r.fanOut)
	consume(r.opts.WebhookQueue, r.dispatcher(uptime.DeliveryWebhook))
	consume(r.opts.AlertQueue, r.dispatcher(uptime.DeliveryAlert))
	if r.opts.WPCOM != nil {
		consume(r.opts.WPCOMQueue, r.dispatcher(uptime.DeliveryWPCOM))
	}
	g.Go(func() error {
		return r.opts.DeadLetters.Run(gctx, func(_ context.Context, dl DeadLetter) error {
			return r.deadLetter(work, dl)
		})
	})
	g.Go(func() error { return r.runMetrics(gctx) })
	if err := g.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("deliverer: %w", err)
	}
	return nil
}

// drainContext returns a context that outlives parent by grace: handlers
// use it so that work in flight when parent ends can finish (or be
// released) instead of being cut off mid-write.
func drainContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	return ctx, func() {
		stop()
		cancel()
	}
}

// runMetrics refreshes the backlog and breaker gauges at once and every
// MetricsInterval until ctx ends.
func (r *Deliverer) runMetrics(ctx context.Context) error {
	tick := time.NewTicker(r.opts.MetricsInterval)
	defer tick.Stop()
	for {
		bctx, cancel := context.WithTimeout(ctx, r.opts.MetricsInterval)
		bs, err := r.opts.Backlog.Backlog(bctx)
		cancel()
		if err != nil {
			r.warnUnlessDone(ctx, "read delivery backlog", err)
		} else {
			r.m.setBacklog(bs)
		}
		if r.opts.BreakerState != nil {
			r.m.setBreaker(r.opts.BreakerState())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// warnUnlessDone logs a failure unless it is the deliverer stopping.
func (r *Deliverer) warnUnlessDone(ctx context.Context, what string, err error) {
	if ctx.Err() == nil {
		r.log.Warn(what, "err", err)
	}
}
