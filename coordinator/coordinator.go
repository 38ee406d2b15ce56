package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the coordinator role.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default 5s
}

// Coordinator is the coordinator role: leadership, assignment, site sync, ingestion, confirmation and the single fenced writer of incident state.
type Coordinator struct {
	opts    Opts
	running prometheus.Gauge
}

// New validates opts; it does no I/O.
func New(opts Opts) (*Coordinator, error) {
	if opts.NodeID == "" {
		return nil, errors.New("coordinator: node id is required")
	}
	if opts.Registerer == nil {
		return nil, errors.New("coordinator: registerer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	running := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_coordinator_running",
		Help: "1 while the coordinator role runs in this process.",
	})
	if err := opts.Registerer.Register(running); err != nil {
		return nil, fmt.Errorf("coordinator: register metrics: %w", err)
	}
	return &Coordinator{opts: opts, running: running}, nil
}

// Run blocks until ctx is done.
func (r *Coordinator) Run(ctx context.Context) error {
	log := r.opts.Logger.With("component", "coordinator")
	r.running.Set(1)
	log.Info("coordinator started", "region", r.opts.Region)
	<-ctx.Done()
	r.running.Set(0)
	log.Info("coordinator stopped")
	return nil
}
