package prober

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the prober role.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default 5s
}

// Prober is the prober role: watches its assignment and checks the sites of its buckets.
type Prober struct {
	opts    Opts
	running prometheus.Gauge
}

// New validates opts; it does no I/O.
func New(opts Opts) (*Prober, error) {
	if opts.NodeID == "" {
		return nil, errors.New("prober: node id is required")
	}
	if opts.Registerer == nil {
		return nil, errors.New("prober: registerer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	running := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_prober_running",
		Help: "1 while the prober role runs in this process.",
	})
	if err := opts.Registerer.Register(running); err != nil {
		return nil, fmt.Errorf("prober: register metrics: %w", err)
	}
	return &Prober{opts: opts, running: running}, nil
}

// Run blocks until ctx is done.
func (r *Prober) Run(ctx context.Context) error {
	log := r.opts.Logger.With("component", "prober")
	r.running.Set(1)
	log.Info("prober started", "region", r.opts.Region)
	<-ctx.Done()
	r.running.Set(0)
	log.Info("prober stopped")
	return nil
}
