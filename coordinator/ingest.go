package coordinator

import (
	"context"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ingestConsumer is the results stream's durable consumer and the key of its
// watermark in MySQL (bus.ConsumerCoordinator).
const ingestConsumer = "coordinator"

// fetchWait bounds one fetch, so the loop notices the term's end promptly.
const fetchWait = time.Second

// runIngest consumes results for one term: it reads the committed watermark,
// waits for the live veriflier regions, rebuilds the incident state from the
// store, rewinds the consumer, then fetches, decides and commits batch after
// batch, deciding verification outcomes and operator commands in between.
// It returns an error when the term must end (fenced, or the store's
// incident state disagrees), and nil when ctx ends.
func (c *Coordinator) runIngest(ctx context.Context, w *termWork) error {
	in := &ingester{c: c, epoch: w.epoch, state: newIngestState()}
	if !c.retry(ctx, "read ingest watermark", func(ctx context.Context) error {
		var err error
		in.watermark, err = c.opts.Ingest.Watermark(ctx, ingestConsumer)
		return err
	}) {
		return nil
	}
	// Without the veriflier regions every failure would look like a mesh
	// without verifliers and be confirmed locally.
	select {
	case <-w.regions.ready:
	case <-ctx.Done():
		return nil
	}
	var ok bool
	if in.inc, ok = c.restoreIncidents(ctx, w); !ok {
		return nil
	}
	b := backoff{}
	// Rewind first (a dead leader's unacked results), and after a failed
	// fetch (it may have dropped results delivered to it), so that no
	// delivered result is overtaken by later ones.
	rewind := true
	for ctx.Err() == nil {
		if err := in.inc.drain(ctx); err != nil {
			return err
		}
		if rewind && !c.retry(ctx, "rewind results", c.opts.Results.Rewind) {
			return nil
		}
		batch, err := c.opts.Results.Fetch(ctx, c.opts.IngestBatch, fetchWait)
		rewind = err != nil
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("fetch results", "err", err, "attempt", b.attempt+1)
				b.wait(ctx, nil)
			}
			continue
		}
		b.reset()
		if err := in.process(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// ingester is one term's ingestion state.
type ingester struct {
	c         *Coordinator
	epoch     uint64
	watermark uint64 // highest committed stream sequence
	state     *ingestState
	inc       *incidents
}

// process commits one fetched batch and acks it. Redeliveries at or below
// the watermark are only acked. It returns an error only when fenced.
func (in *ingester) process(ctx context.Context, batch Batch) error {
	if len(batch.Deliveries) == 0 {
		return nil
	}
	fresh, dups := splitFresh(batch.Deliveries, in.watermark)
	in.c.m.duplicates.Add(float64(dups))
	if len(fresh) > 0 {
		committed, err := in.commitFresh(ctx, fresh, batch.Extend)
		if err != nil || !committed {
			return err
		}
	}
	if batch.Ack != nil {
		if err := batch.Ack(ctx); err != nil {
			// Harmless: the redelivery is below the watermark.
			in.c.log.Warn("ack results", "to_seq", in.watermark, "err", err)
		}
	}
	return nil
}

// commitFresh decides and commits new deliveries and advances the
// watermark; the decisions become the term's memory only once committed. It
// reports false when ctx ended first (the next leader gets the batch again),
// and an error only when the term must end.
func (in *ingester) commitFresh(ctx context.Context, fresh []Delivery, extend func() error) (bool, error) {
	b := in.state.build(ingestConsumer, in.watermark, fresh, in.c.opts.HistorySuccessSample)
	results := make([]uptime.ProbeResult, len(fresh))
	for i, d := range fresh {
		results[i] = d.Result
	}
	var d *decided
	if !in.c.retry(ctx, "decide results", func(ctx context.Context) error {
		var err error
		if d, err = in.inc.decideBatch(ctx, results); err != nil && extend != nil {
			_ = extend() // best effort: keep the batch from being redelivered meanwhile
		}
		return err
	}) {
		return false, nil
	}
	b.Incidents = d.write
	if err := in.commit(ctx, b, extend); err != nil {
		if isTermEnding(err) {
			return false, err
		}
		return false, nil
	}
	in.watermark = b.ToSeq
	in.inc.committed(d)
	in.observe(results)
	return true, nil
}

// commit commits b, retrying with backoff (and extending the batch's ack
// deadline so it is not redelivered meanwhile) until it succeeds, is fenced,
// or ctx ends.
func (in *ingester) commit(ctx context.Context, b IngestBatch, extend func() error) error {
	bo := backoff{}
	for {
		start := time.Now()
		err := in.c.opts.Ingest.Commit(ctx, in.epoch, b)
		if err == nil {
			in.c.m.commit.Observe(time.Since(start).Seconds())
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("commit results to seq %d: %w", b.ToSeq, ctx.Err())
		}
		in.c.m.commitErrors.Inc()
		if isTermEnding(err) {
			return fmt.Errorf("commit results to seq %d: %w", b.ToSeq, err)
		}
		if done, werr := in.committedMeanwhile(ctx, b); werr != nil {
			return werr
		} else if done {
			in.c.log.Info("commit had succeeded before its error", "to_seq", b.ToSeq, "err", err)
			return nil
		}
		in.c.log.Warn("commit results; retrying", "to_seq", b.ToSeq, "err", err, "attempt", bo.attempt+1)
		if extend != nil {
			if err := extend(); err != nil {
				in.c.log.Warn("extend results ack deadline", "to_seq", b.ToSeq, "err", err)
			}
		}
		if !bo.wait(ctx, nil) {
			return fmt.Errorf("commit results to seq %d: %w", b.ToSeq, ctx.Err())
		}
	}
}

// committedMeanwhile tells a commit whose reply was lost (the watermark is
// already at b.ToSeq) from one that failed. A watermark anywhere else than
// b.FromSeq means another writer moved it: the term must end.
func (in *ingester) committedMeanwhile(ctx context.Context, b IngestBatch) (bool, error) {
	wm, err := in.c.opts.Ingest.Watermark(ctx, b.Consumer)
	switch {
	case err != nil:
		return false, nil // the store is unreachable: keep retrying the commit
	case wm >= b.ToSeq:
		return true, nil
	case wm != b.FromSeq:
		return false, fmt.Errorf("ingest watermark is %d, expected %d: another writer: %w", wm, b.FromSeq, ErrFenced)
	default:
		return false, nil
	}
}

// observe counts committed results and how late each check ran.
func (in *ingester) observe(results []uptime.ProbeResult) {
	in.c.m.processed.Add(float64(len(results)))
	for _, r := range results {
		if !r.DueAt.IsZero() {
			in.c.m.checkAge.Observe(max(0, r.CheckedAt.Sub(r.DueAt).Seconds()))
		}
	}
}
