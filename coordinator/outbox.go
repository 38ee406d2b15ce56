package coordinator

import (
	"context"
	"time"
)

// Outbox relay timings and sizes.
const (
	relayInterval       = time.Second      // rows left by a failure or another writer wait at most this long
	relayPage           = 500              // rows read at once
	relayPublishTimeout = 5 * time.Second  // one publish's wait for the server's ack
	driftTimeout        = 30 * time.Second // one drift count
)

// runRelay publishes committed transitions from the outbox to
// JETMON_DELIVERY for one term: at once (rows a crashed leader left), after
// every commit that wrote transitions (kick) and every relayInterval. It
// returns nil when ctx ends.
func (c *Coordinator) runRelay(ctx context.Context, kick <-chan struct{}) error {
	tick := time.NewTicker(relayInterval)
	defer tick.Stop()
	for {
		c.relay(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-kick:
		}
	}
}

// relay publishes pending rows oldest first and deletes the published ones,
// page after page, until the outbox is empty or a publish fails (the rest
// waits for the next round, in order). Republishing a row whose delete
// failed is harmless: the stream deduplicates by transition id.
func (c *Coordinator) relay(ctx context.Context) {
	for ctx.Err() == nil {
		rows, err := c.opts.Outbox.Pending(ctx, relayPage)
		if err != nil {
			c.warnUnlessDone(ctx, "read outbox", err)
			return
		}
		c.m.outboxPending.Set(float64(len(rows)))
		var published []int64
		for _, row := range rows {
			pctx, cancel := context.WithTimeout(ctx, relayPublishTimeout)
			err := c.opts.Publisher.PublishTransition(pctx, row.TransitionID, row.Payload)
			cancel()
			if err != nil {
				c.warnUnlessDone(ctx, "publish transition", err)
				break
			}
			published = append(published, row.ID)
		}
		if len(published) > 0 {
			if err := c.opts.Outbox.Delete(ctx, published); err != nil {
				c.warnUnlessDone(ctx, "delete published outbox rows", err)
				return
			}
			c.m.outboxPublished.Add(float64(len(published)))
		}
		c.m.outboxPending.Set(float64(len(rows) - len(published)))
		if len(published) < len(rows) || len(rows) < relayPage {
			return
		}
	}
}

// runDrift keeps jetmon_projection_drift current for one term: at once and
// every DriftInterval, off the ingestion path. It returns nil when ctx ends.
func (c *Coordinator) runDrift(ctx context.Context) error {
	tick := time.NewTicker(c.opts.DriftInterval)
	defer tick.Stop()
	for {
		dctx, cancel := context.WithTimeout(ctx, driftTimeout)
		n, err := c.opts.Drift.DriftCount(dctx, c.opts.RolloutRange)
		cancel()
		if err != nil {
			c.warnUnlessDone(ctx, "count projection drift", err)
		} else {
			c.m.drift.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// warnUnlessDone logs a failure unless it is the term ending.
func (c *Coordinator) warnUnlessDone(ctx context.Context, what string, err error) {
	if ctx.Err() == nil {
		c.log.Warn(what, "err", err)
	}
}
