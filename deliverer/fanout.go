package deliverer

import (
	"context"
	"log/slog"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// fanOut handles one jetmon.deliver.transition message: it matches the
// transition to its destinations, writes one delivery row per destination
// (a redelivered transition adds none) and the audit rows of suppressed
// notifications in one transaction, publishes a job for every row still
// pending (the job's message id dedupes a repeat) and acks.
func (r *Deliverer) fanOut(ctx context.Context, m Message) {
	tm, err := r.opts.DecodeTransition(m.Data)
	if err != nil {
		r.malformed(ctx, m, err)
		return
	}
	tr := tm.Transition
	log := r.log.With("transition_id", tr.ID, "site_id", tr.BlogID, "incident_id", tr.EventID)
	c, err := r.candidates(ctx, tr.BlogID)
	if err != nil {
		r.retryLater(ctx, m, log, "load destinations", err)
		return
	}
	p := match(tm, c)
	f, err := r.fanOutRows(tm, p, m)
	if err != nil {
		r.malformed(ctx, m, err)
		return
	}
	stored, err := r.opts.FanOuts.FanOut(ctx, f)
	if err != nil {
		r.retryLater(ctx, m, log, "write fan-out", err)
		return
	}
	r.countStored(stored, p)
	for _, row := range stored.Rows {
		if row.Status != uptime.DeliveryPending {
			continue
		}
		if err := r.opts.Jobs.PublishJob(ctx, jobOf(row)); err != nil {
			r.retryLater(ctx, m, log, "publish job", err)
			return
		}
	}
	if err := m.Ack(ctx); err != nil {
		log.Warn("ack transition", "err", err)
		return
	}
	r.m.fanouts.Inc()
	log.Debug("transition fanned out", "deliveries", len(stored.Rows), "suppressed", len(p.audits))
}

// candidates loads what a transition of blogID is matched against.
func (r *Deliverer) candidates(ctx context.Context, blogID int64) (candidates, error) {
	hooks, err := r.opts.Destinations.ActiveWebhooks(ctx)
	if err != nil {
		return candidates{}, err
	}
	contacts, err := r.opts.Destinations.ActiveAlertContacts(ctx)
	if err != nil {
		return candidates{}, err
	}
	tenants, err := r.opts.Destinations.SiteTenants(ctx, blogID)
	if err != nil {
		return candidates{}, err
	}
	return candidates{webhooks: hooks, contacts: contacts, tenants: tenants, wpcom: r.opts.WPCOM != nil}, nil
}

// fanOutRows freezes one payload per event type of p and builds the
// store's write.
func (r *Deliverer) fanOutRows(tm TransitionMessage, p plan, m Message) (FanOut, error) {
	tr := tm.Transition
	f := FanOut{TransitionID: tr.ID, EventID: tr.EventID, BlogID: tr.BlogID, TransitionAt: m.PublishedAt,
		Audits: p.audits, Now: r.opts.Now()}
	if f.EventID == 0 {
		f.EventID = tm.Event.ID
	}
	if f.TransitionAt.IsZero() {
		f.TransitionAt = f.Now
	}
	payloads := map[string][]byte{}
	for _, t := range p.targets {
		payload, ok := payloads[t.eventType]
		if !ok {
			var err error
			if payload, err = BuildPayload(tm, t.eventType); err != nil {
				return FanOut{}, err
			}
			payloads[t.eventType] = payload
		}
		d := NewDelivery{Kind: t.kind, DestinationID: t.destinationID, EventType: t.eventType, Payload: payload}
		if t.kind == uptime.DeliveryAlert {
			d.Severity = tr.SeverityAfter
		}
		f.Deliveries = append(f.Deliveries, d)
	}
	return f, nil
}

// countStored counts the delivery rows a fan-out created and, when it
// wrote them, the suppressions of p (a repeated fan-out counts nothing).
func (r *Deliverer) countStored(s FanOutResult, p plan) {
	for kind, n := range s.Created {
		r.m.created.WithLabelValues(string(kind)).Add(float64(n))
	}
	if !s.Audited {
		return
	}
	for _, a := range p.audits {
		kind, _ := a.Metadata["kind"].(string)
		r.m.suppressed.WithLabelValues(kind).Inc()
	}
}

func jobOf(row Row) Job {
	return Job{DeliveryID: row.ID, Kind: row.Kind, DestinationID: row.DestinationID,
		TransitionID: row.TransitionID, Generation: row.Generation}
}

// retryLater naks m after a store or bus failure, waiting longer the more
// often it was delivered.
func (r *Deliverer) retryLater(ctx context.Context, m Message, log *slog.Logger, what string, err error) {
	delay := storeRetryDelay(m.Delivered)
	if ctx.Err() == nil {
		log.Warn(what+"; retrying", "err", err, "delivered", m.Delivered, "retry_in", delay.String())
	}
	if nerr := m.Nak(context.WithoutCancel(ctx), delay); nerr != nil && ctx.Err() == nil {
		log.Warn("nak", "err", nerr)
	}
}

// malformed records m as a dead letter and terminates it: it can never be
// handled, and redelivering it forever would only hide it.
func (r *Deliverer) malformed(ctx context.Context, m Message, cause error) {
	r.terminate(ctx, m, 0, "malformed: "+cause.Error(), true)
}

// terminate records m as a dead letter (abandoning deliveryID's row, if
// pending) and then terminates it; if the record fails, m is retried
// later instead, so nothing leaves the stream uncopied.
func (r *Deliverer) terminate(ctx context.Context, m Message, deliveryID int64, reason string, malformed bool) {
	reason = clip(reason, maxErrorBytes)
	rec := DeadLetterRecord{
		Stream: m.Stream, StreamSeq: m.StreamSeq, Consumer: m.Consumer, Subject: m.Subject,
		Deliveries: m.Delivered, Reason: reason, Header: m.Header, Payload: m.Data,
		PublishedAt: m.PublishedAt, DeliveryID: deliveryID, AbandonNote: clip(reason, uptime.MaxResponseBytes),
		Now: r.opts.Now(),
	}
	log := r.log.With("consumer", m.Consumer, "stream_seq", m.StreamSeq)
	inserted, _, err := r.opts.DeadLetterDB.RecordDeadLetter(ctx, rec)
	if err != nil {
		r.retryLater(ctx, m, log, "record dead letter", err)
		return
	}
	if err := m.Term(ctx, reason); err != nil {
		log.Warn("terminate message", "err", err)
		return
	}
	if malformed {
		r.m.malformed.WithLabelValues(m.Consumer).Inc()
	}
	if inserted {
		r.m.deadLetters.WithLabelValues(m.Consumer).Inc()
	}
	log.Warn("message terminated as a dead letter", "reason", reason, "subject", m.Subject)
}
