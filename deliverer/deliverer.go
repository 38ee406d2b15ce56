package deliverer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the deliverer role.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default 5s
}

// Deliverer is the deliverer role: fans out transitions and dispatches notification jobs.
type Deliverer struct {
	opts    Opts
	running prometheus.Gauge
}

// New validates opts; it does no I/O.
func New(opts Opts) (*Deliverer, error) {
	if opts.NodeID == "" {
		return nil, errors.New("deliverer: node id is required")
	}
	if opts.Registerer == nil {
		return nil, errors.New("deliverer: registerer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	running := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_deliverer_running",
		Help: "1 while the deliverer role runs in this process.",
	})
	if err := opts.Registerer.Register(running); err != nil {
		return nil, fmt.Errorf("deliverer: register metrics: %w", err)
	}
	return &Deliverer{opts: opts, running: running}, nil
}

// Run blocks until ctx is done.
func (r *Deliverer) Run(ctx context.Context) error {
	log := r.opts.Logger.With("component", "deliverer")
	r.running.Set(1)
	log.Info("deliverer started", "region", r.opts.Region)
	<-ctx.Done()
	r.running.Set(0)
	log.Info("deliverer stopped")
	return nil
}
