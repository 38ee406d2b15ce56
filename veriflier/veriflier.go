package veriflier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// DefaultShutdownTimeout bounds the drain when Opts.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 5 * time.Second

// Errors.
var (
	// ErrAlreadyRun is returned by a second call to Run: a Veriflier runs once.
	ErrAlreadyRun = errors.New("veriflier already run")
	// ErrStopping is the handler's answer, meaning no vote, to a request
	// taken after the veriflier began to stop, or whose check the shutdown
	// deadline cut short (such a check says nothing about the site).
	ErrStopping = errors.New("veriflier stopping")
)

// Opts configures the veriflier role.
type Opts struct {
	NodeID          string
	Region          string // the region this veriflier votes for
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default DefaultShutdownTimeout
	Server          Server        // delivers this region's vote requests
	Checker         Checker       // the probers' checker
}

// Veriflier is the veriflier role: it answers vote requests with a check
// from its region.
type Veriflier struct {
	opts    Opts
	log     *slog.Logger
	metrics *metrics
	started atomic.Bool
}

// New validates opts and registers the metrics; it does no I/O.
func New(opts Opts) (*Veriflier, error) {
	switch {
	case opts.NodeID == "" || opts.Region == "":
		return nil, errors.New("veriflier: node id and region are required")
	case opts.Registerer == nil:
		return nil, errors.New("veriflier: registerer is required")
	case opts.Server == nil || opts.Checker == nil:
		return nil, errors.New("veriflier: server and checker are required")
	case opts.ShutdownTimeout < 0:
		return nil, fmt.Errorf("veriflier: shutdown timeout %v < 0", opts.ShutdownTimeout)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("veriflier: %w", err)
	}
	log := opts.Logger.With("component", "veriflier", "region", opts.Region, "node_id", opts.NodeID)
	return &Veriflier{opts: opts, log: log, metrics: m}, nil
}

// Run answers this region's vote requests until ctx ends, then drains
// within ShutdownTimeout: no new request is taken, running checks finish
// and their votes are sent; a check still running at the deadline is
// cancelled and answers nothing. Run returns nil after a clean stop, or the
// Server's error if serving failed first.
func (r *Veriflier) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	r.metrics.running.Set(1)
	defer r.metrics.running.Set(0)
	r.log.Info("veriflier started")
	// work outlives ctx: it carries running checks through the drain and
	// is cancelled only at the shutdown deadline.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	served := make(chan struct{})
	var g errgroup.Group
	g.Go(func() error {
		defer close(served)
		err := r.opts.Server.ServeVerify(ctx, r.opts.Region, func(serving context.Context, spec uptime.CheckSpec) (uptime.Vote, error) {
			return r.vote(serving, work, spec)
		})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("serve verify: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		r.cancelAtDeadline(ctx, served, stopWork)
		return nil
	})
	err := g.Wait()
	r.log.Info("veriflier stopped")
	return err
}

// cancelAtDeadline calls stopWork when serving has not ended
// ShutdownTimeout after ctx ended.
func (r *Veriflier) cancelAtDeadline(ctx context.Context, served <-chan struct{}, stopWork func()) {
	select {
	case <-served:
		return
	case <-ctx.Done():
	}
	deadline := time.NewTimer(r.opts.ShutdownTimeout)
	defer deadline.Stop()
	select {
	case <-served:
	case <-deadline.C:
		r.log.Warn("shutdown deadline: cancelling running checks", "timeout", r.opts.ShutdownTimeout)
		stopWork()
	}
}

// vote checks spec with work's lifetime and answers the vote. A request
// taken once serving has ended, or whose check work's end cut short, gets
// ErrStopping.
func (r *Veriflier) vote(serving, work context.Context, spec uptime.CheckSpec) (uptime.Vote, error) {
	if serving.Err() != nil {
		return uptime.Vote{}, fmt.Errorf("check of %d: %w", spec.BlogID, ErrStopping)
	}
	start := time.Now()
	res := r.opts.Checker.Check(work, spec)
	took := time.Since(start)
	if work.Err() != nil {
		r.log.Info("check cut short by the shutdown deadline", "blog_id", spec.BlogID)
		return uptime.Vote{}, fmt.Errorf("check of %d: %w", spec.BlogID, ErrStopping)
	}
	r.metrics.checkSeconds.Observe(took.Seconds())
	v := uptime.Vote{
		Region: r.opts.Region, NodeID: r.opts.NodeID, Up: !res.IsFailure(),
		HTTPCode: res.HTTPCode, ErrorCode: res.ErrorCode,
		RTT: res.RTT, DNS: res.DNS, TCP: res.TCP, TLS: res.TLS, TTFB: res.TTFB, CheckedAt: res.CheckedAt,
	}
	if v.CheckedAt.IsZero() {
		v.CheckedAt = start
	}
	if v.Up {
		r.metrics.up.Inc()
	} else {
		r.metrics.down.Inc()
	}
	r.log.Debug("vote", "blog_id", spec.BlogID, "up", v.Up, "http_code", v.HTTPCode, "error_code", v.ErrorCode, "took", took)
	return v, nil
}
