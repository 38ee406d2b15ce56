package veriflier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the veriflier role.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default 5s
}

// Veriflier is the veriflier role: answers vote requests with a check from its region.
type Veriflier struct {
	opts    Opts
	running prometheus.Gauge
}

// New validates opts; it does no I/O.
func New(opts Opts) (*Veriflier, error) {
	if opts.NodeID == "" {
		return nil, errors.New("veriflier: node id is required")
	}
	if opts.Registerer == nil {
		return nil, errors.New("veriflier: registerer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	running := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_veriflier_running",
		Help: "1 while the veriflier role runs in this process.",
	})
	if err := opts.Registerer.Register(running); err != nil {
		return nil, fmt.Errorf("veriflier: register metrics: %w", err)
	}
	return &Veriflier{opts: opts, running: running}, nil
}

// Run blocks until ctx is done.
func (r *Veriflier) Run(ctx context.Context) error {
	log := r.opts.Logger.With("component", "veriflier")
	r.running.Set(1)
	log.Info("veriflier started", "region", r.opts.Region)
	<-ctx.Done()
	r.running.Set(0)
	log.Info("veriflier stopped")
	return nil
}
