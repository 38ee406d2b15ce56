package prober

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrAlreadyRun is returned by a second call to Run: a Prober runs once.
var ErrAlreadyRun = errors.New("prober already run")

// Run follows the assignment, schedules and runs checks and publishes their
// results until ctx ends, then drains within ShutdownTimeout: no new check
// starts, in-flight checks finish (a check still running at the deadline is
// cancelled and its result discarded, since it says nothing about the site),
// and the result buffer is flushed; whatever is left unpublished at the
// deadline counts as dropped. Run returns nil after a clean stop, or the
// on-demand check server's error if it failed first.
func (p *Prober) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	p.log.Info("prober started", "max_concurrent_checks", p.opts.MaxConcurrentChecks)
	// work outlives ctx: it carries checks and publishes through the drain
	// and is cancelled only at the shutdown deadline.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	pub := &publisher{pub: p.opts.Publisher, queue: p.queue, log: p.log, metrics: p.metrics, dropped: p.drop}
	var publishers, checks sync.WaitGroup
	for range p.opts.PublishWorkers {
		publishers.Go(func() { pub.work(work) })
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		newLoop(p, &checks).run(gctx, work)
		return nil
	})
	if p.opts.CheckServer != nil {
		g.Go(func() error { return p.serveChecks(gctx) })
	}
	err := g.Wait()

	start := time.Now()
	deadline := time.AfterFunc(p.opts.ShutdownTimeout, stopWork)
	defer deadline.Stop()
	checks.Wait()
	p.queue.close()
	publishers.Wait()
	p.log.Info("prober stopped", "drain", time.Since(start), "dropped", p.drops.Load())
	return err
}

// serveChecks answers on-demand checks with the scheduled checks' Checker
// until ctx ends. An error while ctx is alive stops the prober.
func (p *Prober) serveChecks(ctx context.Context) error {
	err := p.opts.CheckServer.ServeChecks(ctx, p.opts.NodeID, p.opts.Checker.Check)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve on-demand checks: %w", err)
	}
	return nil
}
