package deliverer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Dispatch timings.
const (
	minBusyWait    = 250 * time.Millisecond // a Busy claim looks again no sooner
	finishAttempts = 4                      // tries of the bookkeeping after a send
	finishTimeout  = 5 * time.Second        // one try's bound, detached from shutdown
	finishBackoff  = 250 * time.Millisecond // doubled between tries
)

// dispatcher returns the handler of kind's queue.
func (r *Deliverer) dispatcher(kind uptime.DeliveryKind) func(context.Context, Message) {
	return func(ctx context.Context, m Message) { r.dispatch(ctx, kind, m) }
}

// dispatch handles one job: a delivery already delivered or abandoned is
// acked and never sent; one not yet due waits; otherwise it is claimed
// (exactly one deliverer wins the claim), sent, recorded and settled.
func (r *Deliverer) dispatch(ctx context.Context, kind uptime.DeliveryKind, m Message) {
	job, err := r.opts.DecodeJob(m.Data)
	if err == nil && job.Kind != kind {
		err = fmt.Errorf("%s job on the %s queue", job.Kind, kind)
	}
	if err != nil {
		r.malformed(ctx, m, err)
		return
	}
	log := r.log.With("delivery_id", job.DeliveryID, "kind", string(kind))
	row, err := r.opts.Dispatch.Row(ctx, job.DeliveryID)
	switch {
	case errors.Is(err, ErrNotFound):
		r.terminate(ctx, m, 0, fmt.Sprintf("job of delivery %d, which does not exist", job.DeliveryID), false)
		return
	case err != nil:
		r.retryLater(ctx, m, log, "load delivery", err)
		return
	}
	if why := settledFor(row, job); why != "" {
		log.Debug("job needs no send", "why", why)
		r.settle(ctx, m, log, verdict{settle: settleAck}, "")
		return
	}
	now := r.opts.Now()
	if wait := row.NextAttemptAt.Sub(now); wait > 0 {
		r.settle(ctx, m, log, verdict{settle: settleNak, delay: wait}, "")
		return
	}
	claim, err := r.opts.Dispatch.Claim(ctx, ClaimRequest{DeliveryID: row.ID, Generation: job.Generation,
		NodeID: r.opts.NodeID, Now: now, Lease: r.lease(), RateCap: kind == uptime.DeliveryAlert})
	if err != nil {
		r.retryLater(ctx, m, log, "claim delivery", err)
		return
	}
	switch claim.Outcome {
	case Claimed:
		r.attempt(ctx, m, log, claim)
	case Busy:
		r.settle(ctx, m, log, verdict{settle: settleNak, delay: max(claim.RetryIn, minBusyWait)}, "")
	case RateLimited:
		r.m.attempts.WithLabelValues(string(kind), OutcomeRateLimited).Inc()
		r.m.abandoned.WithLabelValues(string(kind)).Inc()
		log.Warn("delivery rate-limited and abandoned", "contact_id", row.DestinationID)
		r.settle(ctx, m, log, verdict{settle: settleAck}, "")
	default: // Settled
		r.settle(ctx, m, log, verdict{settle: settleAck}, "")
	}
}

// settledFor says why a job needs no send ("" when it does): its row is no
// longer pending (a delivered row is never sent again, whoever picks the
// job up), or a manual retry gave the row a newer generation.
func settledFor(row Row, job Job) string {
	switch {
	case row.Status != uptime.DeliveryPending:
		return "delivery is " + string(row.Status)
	case job.Generation != row.Generation:
		return fmt.Sprintf("job of generation %d, delivery at %d", job.Generation, row.Generation)
	}
	return ""
}

// attempt sends a claimed delivery, records the outcome and settles the
// message.
func (r *Deliverer) attempt(ctx context.Context, m Message, log *slog.Logger, claim ClaimResult) {
	row := claim.Row
	log = log.With("attempt", row.Attempt)
	res, err := r.send(ctx, m, row)
	v := r.verdictOf(ctx, err, row.Attempt, m.Delivered)
	now := r.opts.Now()
	f := Finish{DeliveryID: row.ID, AttemptID: claim.AttemptID, Generation: row.Generation, NodeID: r.opts.NodeID,
		Outcome: v.outcome, Status: v.status, StatusCode: res.StatusCode, Response: lastResponse(res, err),
		Error: errorText(err), Refund: v.refund, Now: now}
	if v.status == uptime.DeliveryPending {
		f.NextAttemptAt = now.Add(v.delay)
	}
	owned, ferr := r.finish(ctx, f)
	if ferr != nil {
		// The lease stays until it expires; then another deliverer (or this
		// one) takes the job again.
		log.Error("record attempt; the delivery is retried after its lease", "err", ferr, "outcome", v.outcome)
		r.settle(ctx, m, log, verdict{settle: settleNak, delay: r.lease()}, "")
		return
	}
	kind := string(row.Kind)
	r.m.attempts.WithLabelValues(kind, v.outcome).Inc()
	switch {
	case !owned:
		log.Warn("lease lost before the attempt was recorded", "outcome", v.outcome)
		v = verdict{settle: settleAck}
	case v.status == uptime.DeliveryDelivered:
		r.m.latency.WithLabelValues(kind).Observe(max(now.Sub(row.TransitionAt), 0).Seconds())
		log.Debug("delivered", "status_code", res.StatusCode)
	case v.status == uptime.DeliveryAbandoned:
		r.m.abandoned.WithLabelValues(kind).Inc()
		log.Warn("delivery abandoned", "err", err, "status_code", res.StatusCode)
	case v.outcome == OutcomeDeferred:
		log.Info("delivery deferred", "reason", err, "retry_in", v.delay.String())
	default:
		log.Info("delivery attempt failed; retrying", "outcome", v.outcome, "err", err,
			"status_code", res.StatusCode, "retry_in", v.delay.String())
	}
	r.settle(ctx, m, log, v, termReason(row.ID, row.Attempt, f.Response))
}

// verdictOf judges the send of attempt, on the job's delivered-th
// delivery, with two cases of its own: a send cut off by the deliverer
// stopping, and a store failure before the send, release the delivery
// without using an attempt (the latter waiting longer the more often the
// job was delivered, like any store failure).
func (r *Deliverer) verdictOf(ctx context.Context, err error, attempt, delivered int) verdict {
	var (
		se *storeError
		ab *abandonError
	)
	switch {
	case errors.As(err, &ab):
		return verdict{outcome: OutcomeAbandoned, status: uptime.DeliveryAbandoned, settle: settleTerm}
	case err != nil && ctx.Err() != nil:
		return verdict{outcome: OutcomeRetry, status: uptime.DeliveryPending, refund: true, settle: settleNak}
	case errors.As(err, &se):
		return verdict{outcome: OutcomeRetry, status: uptime.DeliveryPending, refund: true, settle: settleNak,
			delay: storeRetryDelay(delivered)}
	default:
		return judge(err, attempt, r.opts.RetrySchedule)
	}
}

// finish records f, retrying a failed write a few times: a lost record
// would leave the delivery to be sent again after its lease. It runs
// detached from shutdown so an interrupted send is still released, but
// then tries once, within the bookkeeping bound.
func (r *Deliverer) finish(ctx context.Context, f Finish) (bool, error) {
	var (
		owned    bool
		err      error
		wait     = finishBackoff
		tries    = finishAttempts
		deadline = finishTimeout
	)
	if ctx.Err() != nil {
		tries, deadline = 1, r.bookkeeping()
	}
	for i := range tries {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadline)
		owned, err = r.opts.Dispatch.Finish(fctx, f)
		cancel()
		if err == nil || i == tries-1 {
			break
		}
		t := time.NewTimer(wait)
		<-t.C
		wait *= 2
	}
	return owned, err
}

// settle acks, naks or terminates m as v says; acknowledgements outlive a
// shutdown for a moment so a finished attempt is not redelivered.
func (r *Deliverer) settle(ctx context.Context, m Message, log *slog.Logger, v verdict, reason string) {
	deadline := finishTimeout
	if ctx.Err() != nil {
		deadline = r.bookkeeping()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadline)
	defer cancel()
	var err error
	switch v.settle {
	case settleAck:
		err = m.Ack(sctx)
	case settleTerm:
		err = m.Term(sctx, clip(reason, maxErrorBytes))
	default:
		err = m.Nak(sctx, v.delay)
	}
	if err != nil {
		log.Warn("settle job", "err", err)
	}
}

// heartbeat calls beat every interval until stop is called, so the server
// does not redeliver a message whose send is still running. stop waits
// for a beat in progress.
func heartbeat(ctx context.Context, every time.Duration, beat func(context.Context) error) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		_ = beat(ctx) // a lost beat only risks a redelivery, which the claim absorbs
		t.Reset(every)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}
