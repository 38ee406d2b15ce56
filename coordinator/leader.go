package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Term endings.
var (
	errTermLost = errors.New("lease lost") // nothing to resign
	// errTermOver answers a command that reached a term's handlers after
	// the term ended: unavailable, so that the caller asks again (the next
	// leader) rather than taking it for a failure of the command.
	errTermOver error = &commandError{code: codeUnavailable, msg: "not leading"}
)

// Retry delays of every loop: capped exponential backoff.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// Run campaigns for the lease and leads while it holds it, then campaigns
// again, until ctx ends. On ctx end it stops the term's work and resigns the
// lease within ShutdownTimeout, so a standby leads at once. It returns nil:
// every failure is retried.
func (c *Coordinator) Run(ctx context.Context) error {
	c.log.Info("coordinator started", "region", c.opts.Region)
	defer c.log.Info("coordinator stopped")
	b := backoff{}
	for ctx.Err() == nil {
		term, err := c.opts.Elector.Campaign(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("campaign", "err", err)
				b.wait(ctx, nil)
			}
			continue
		}
		if c.serveTerm(ctx, term) {
			b.reset()
		} else {
			b.wait(ctx, nil) // fenced or lost before fencing: do not spin
		}
	}
	return nil
}

// serveTerm fences MySQL with the term's epoch and leads until the term is
// lost, a commit is fenced, or ctx ends; it reports whether it led.
func (c *Coordinator) serveTerm(ctx context.Context, term Term) bool {
	epoch := term.Epoch()
	log := c.log.With("epoch", epoch)
	if err := c.advanceFence(ctx, term); err != nil {
		switch {
		case errors.Is(err, ErrFenced):
			log.Error("a newer epoch holds the fencing row; resigning", "err", err)
			c.resign(ctx, term)
		case errors.Is(err, errTermLost):
			log.Warn("lease lost before fencing")
		default: // ctx ended
			c.resign(ctx, term)
		}
		return false
	}
	log.Info("leading")
	c.m.termStarted(epoch)
	err := c.lead(ctx, term)
	c.m.termEnded()
	switch {
	case errors.Is(err, errTermLost):
		log.Warn("lease lost; standing by")
		return true
	case err != nil:
		log.Error("term ended; resigning", "err", err)
	default:
		log.Info("resigning")
	}
	c.resign(ctx, term)
	return true
}

// advanceFence records the term's epoch in the fencing row, retrying
// transient errors until ErrFenced, the term is lost or ctx ends.
func (c *Coordinator) advanceFence(ctx context.Context, term Term) error {
	b := backoff{}
	for {
		err := c.opts.Fence.Advance(ctx, term.Epoch(), c.opts.NodeID)
		if err == nil || errors.Is(err, ErrFenced) {
			return err
		}
		c.log.Warn("advance fence", "epoch", term.Epoch(), "err", err, "attempt", b.attempt+1)
		if !b.wait(ctx, term.Lost()) {
			if ctx.Err() != nil {
				return fmt.Errorf("advance fence: %w", ctx.Err())
			}
			return errTermLost
		}
	}
}

// resign gives the lease up within ShutdownTimeout, even when ctx has ended.
func (c *Coordinator) resign(ctx context.Context, term Term) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.ShutdownTimeout)
	defer cancel()
	if err := term.Resign(rctx); err != nil {
		c.log.Warn("resign lease; a standby takes over when it expires", "epoch", term.Epoch(), "err", err)
	}
}

// termWork is what the loops of one term share.
type termWork struct {
	epoch    uint64
	regions  *regionSet           // live veriflier regions (the veriflier watch writes)
	owners   *assignView          // the term's assignments (the assigner writes)
	jobs     chan verifyJob       // ingest loop -> verification workers; never blocks the loop
	outcomes chan verifyOutcome   // verification workers -> ingest loop
	commands chan incidentCommand // command handlers -> ingest loop
	relay    chan struct{}        // wakes the outbox relay
}

func (c *Coordinator) newTermWork(epoch uint64) *termWork {
	workers := c.opts.VerifyWorkers
	return &termWork{
		epoch:    epoch,
		regions:  newRegionSet(),
		owners:   &assignView{},
		jobs:     make(chan verifyJob, workers*verifyQueueFactor),
		outcomes: make(chan verifyOutcome, workers),
		commands: make(chan incidentCommand),
		relay:    make(chan struct{}, 1),
	}
}

// lead runs the term's work until the term is lost (errTermLost), a loop
// fails (a fenced commit) or ctx ends (nil).
func (c *Coordinator) lead(ctx context.Context, term Term) error {
	w := c.newTermWork(term.Epoch())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case <-term.Lost():
			return errTermLost
		case <-gctx.Done():
			return nil
		}
	})
	syncNow := make(chan syncRequest)
	g.Go(func() error { return c.runAssign(gctx, w.epoch, w.owners) })
	// Probers are watched by the assignment loop, verifliers also for the
	// confirmation regions; the other roles only for jetmon_mesh_nodes.
	g.Go(func() error { return c.watchNodeGauge(gctx, uptime.RoleVeriflier, w.regions.set) })
	for _, role := range []string{uptime.RoleCoordinator, uptime.RoleDeliverer, uptime.RoleAPI} {
		g.Go(func() error { return c.watchNodeGauge(gctx, role, nil) })
	}
	g.Go(func() error { return c.runSiteSync(gctx, syncNow) })
	g.Go(func() error { return c.runIngest(gctx, w) })
	for range c.opts.VerifyWorkers {
		g.Go(func() error { return c.runVerifier(gctx, w) })
	}
	g.Go(func() error { return c.runRelay(gctx, w.relay) })
	g.Go(func() error { return c.runDrift(gctx) })
	g.Go(func() error { return c.serveCommands(gctx, c.handlers(gctx.Done(), w, syncNow)) })
	return g.Wait()
}

// handlers are the leader's commands; done is the term's end.
func (c *Coordinator) handlers(done <-chan struct{}, w *termWork, syncNow chan<- syncRequest) map[string]CommandHandler {
	return map[string]CommandHandler{
		verbSiteSync:    siteSyncHandler(done, syncNow),
		verbEventClose:  c.closeHandler(w, done, parseEventClose),
		verbSitePause:   c.closeHandler(w, done, siteCloseParser(notePaused)),
		verbSiteDelete:  c.closeHandler(w, done, siteCloseParser(noteDeleted)),
		verbSiteTrigger: c.triggerHandler(w, done),
	}
}

// serveCommands serves the leader's commands until ctx ends, restarting the
// server after failures.
func (c *Coordinator) serveCommands(ctx context.Context, handlers map[string]CommandHandler) error {
	b := backoff{}
	for ctx.Err() == nil {
		err := c.opts.Commands.ServeCommands(ctx, handlers)
		if ctx.Err() != nil {
			break
		}
		c.log.Warn("serve commands stopped; restarting", "err", err, "attempt", b.attempt+1)
		b.wait(ctx, nil)
	}
	return nil
}

// backoff is a capped exponential delay between retries.
type backoff struct{ attempt int }

func (b *backoff) reset() { b.attempt = 0 }

// next returns the next delay: retryMin doubling up to retryMax.
func (b *backoff) next() time.Duration {
	d := min(retryMin<<min(b.attempt, 6), retryMax)
	b.attempt++
	return d
}

// wait sleeps for the next delay. It returns false early when ctx ends or
// stop is closed (a nil stop never is).
func (b *backoff) wait(ctx context.Context, stop <-chan struct{}) bool {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// isTermEnding reports whether a write error ends the term: a newer leader
// holds the fence, or the store's incident state disagrees with memory.
func isTermEnding(err error) bool {
	return errors.Is(err, ErrFenced) || errors.Is(err, ErrIncidentConflict)
}

// retry calls fn until it succeeds or ctx ends (then it returns false),
// logging each failure as what.
func (c *Coordinator) retry(ctx context.Context, what string, fn func(ctx context.Context) error) bool {
	b := backoff{}
	for {
		err := fn(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		c.log.Warn(what, "err", err, "attempt", b.attempt+1)
		if !b.wait(ctx, nil) {
			return false
		}
	}
}
