package jetmoncmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/deliverystore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The deliverer declares its own ports; these adapters translate the bus
// and deliverystore types and sentinel errors into them (conversion only).

// queueAdapter is one delivery consumer.
type queueAdapter struct {
	q        *bus.WorkQueue
	consumer string
}

func (a queueAdapter) Consume(ctx context.Context, handle deliverer.Handler) error {
	return a.q.Consume(ctx, func(ctx context.Context, m bus.WorkMsg) {
		handle(ctx, deliverer.Message{
			Stream: bus.StreamDelivery, Consumer: a.consumer, Subject: m.Subject, Data: m.Data, Header: m.Header,
			StreamSeq: m.StreamSeq, Delivered: int(min(m.Delivered, 1<<31-1)), PublishedAt: m.PublishedAt,
			Ack: m.Ack, Nak: m.Nak, Term: m.Term, Progress: m.Progress,
		})
	})
}

type jobsAdapter struct{ p *bus.JobPublisher }

func (a jobsAdapter) PublishJob(ctx context.Context, j deliverer.Job) error {
	return a.p.PublishJob(ctx, bus.Job{DeliveryID: j.DeliveryID, Kind: string(j.Kind), DestinationID: j.DestinationID,
		TransitionID: j.TransitionID, Generation: j.Generation})
}

type backlogAdapter struct{ js jetstream.JetStream }

func (a backlogAdapter) Backlog(ctx context.Context) ([]deliverer.QueueBacklog, error) {
	m, err := bus.DeliveryBacklog(ctx, a.js)
	if err != nil {
		return nil, err
	}
	out := make([]deliverer.QueueBacklog, 0, len(m))
	for _, name := range bus.DeliveryConsumers() {
		if b, ok := m[name]; ok {
			out = append(out, deliverer.QueueBacklog{Consumer: name, Pending: b.NumPending,
				AckPending: uint64(max(b.NumAckPending, 0)), Redelivered: uint64(max(b.NumRedelivered, 0))})
		}
	}
	return out, nil
}

type deadLettersAdapter struct{ m *bus.DeadLetterMover }

func (a deadLettersAdapter) Run(ctx context.Context, handle func(context.Context, deliverer.DeadLetter) error) error {
	return a.m.Run(ctx, func(ctx context.Context, dl bus.DeadLetter) error {
		return handle(ctx, deliverer.DeadLetter{
			Stream: dl.Stream, Consumer: dl.Consumer, Subject: dl.Subject, StreamSeq: dl.StreamSeq,
			Deliveries: int(min(dl.Deliveries, 1<<31-1)), Reason: dl.Reason, Data: dl.Data, Header: dl.Header, At: dl.At,
		})
	})
}

// decodeTransition is the deliverer's transition codec.
func decodeTransition(b []byte) (deliverer.TransitionMessage, error) {
	m, err := bus.DecodeTransitionMessage(b)
	if err != nil {
		return deliverer.TransitionMessage{}, err
	}
	return deliverer.TransitionMessage(m), nil
}

// decodeJob is the deliverer's job codec.
func decodeJob(b []byte) (deliverer.Job, error) {
	j, err := bus.DecodeJob(b)
	if err != nil {
		return deliverer.Job{}, err
	}
	return deliverer.Job{DeliveryID: j.DeliveryID, Kind: uptime.DeliveryKind(j.Kind), DestinationID: j.DestinationID,
		TransitionID: j.TransitionID, Generation: j.Generation}, nil
}

// deliveryStoreErr maps deliverystore's sentinels onto the deliverer's.
func deliveryStoreErr(err error) error {
	switch {
	case errors.Is(err, deliverystore.ErrNotFound):
		return fmt.Errorf("%w: %w", deliverer.ErrNotFound, err)
	case errors.Is(err, deliverystore.ErrNotRetryable):
		return fmt.Errorf("%w: %w", deliverer.ErrNotRetryable, err)
	}
	return err
}

// storeAdapter is the deliverer's every store port on deliverystore.
type storeAdapter struct{ s *deliverystore.Store }

func (a storeAdapter) ActiveWebhooks(ctx context.Context) ([]uptime.Webhook, error) {
	return a.s.ActiveWebhooks(ctx)
}

func (a storeAdapter) ActiveAlertContacts(ctx context.Context) ([]uptime.AlertContact, error) {
	return a.s.ActiveAlertContacts(ctx)
}

func (a storeAdapter) SiteTenants(ctx context.Context, blogID int64) ([]string, error) {
	return a.s.SiteTenants(ctx, blogID)
}

func (a storeAdapter) Webhook(ctx context.Context, id int64) (uptime.Webhook, error) {
	w, err := a.s.Webhook(ctx, id)
	return w, deliveryStoreErr(err)
}

func (a storeAdapter) AlertContact(ctx context.Context, id int64) (uptime.AlertContact, error) {
	c, err := a.s.AlertContact(ctx, id)
	return c, deliveryStoreErr(err)
}

func (a storeAdapter) FanOut(ctx context.Context, f deliverer.FanOut) (deliverer.FanOutResult, error) {
	sf := deliverystore.FanOut{TransitionID: f.TransitionID, EventID: f.EventID, BlogID: f.BlogID,
		TransitionAt: f.TransitionAt, Now: f.Now}
	for _, d := range f.Deliveries {
		sf.Deliveries = append(sf.Deliveries, deliverystore.NewDelivery(d))
	}
	for _, au := range f.Audits {
		sf.Audits = append(sf.Audits, deliverystore.Audit(au))
	}
	res, err := a.s.FanOut(ctx, sf)
	if err != nil {
		return deliverer.FanOutResult{}, err
	}
	out := deliverer.FanOutResult{Rows: make([]deliverer.Row, len(res.Rows)), Created: res.Created, Audited: res.Audited}
	for i, r := range res.Rows {
		out.Rows[i] = deliverer.Row(r)
	}
	return out, nil
}

func (a storeAdapter) Row(ctx context.Context, id int64) (deliverer.Row, error) {
	r, err := a.s.Row(ctx, id)
	return deliverer.Row(r), deliveryStoreErr(err)
}

func (a storeAdapter) Claim(ctx context.Context, r deliverer.ClaimRequest) (deliverer.ClaimResult, error) {
	res, err := a.s.Claim(ctx, deliverystore.ClaimRequest(r))
	if err != nil {
		return deliverer.ClaimResult{}, err
	}
	return deliverer.ClaimResult{Outcome: claimOutcome(res.Outcome), Row: deliverer.Row(res.Row),
		AttemptID: res.AttemptID, RetryIn: res.RetryIn}, nil
}

func claimOutcome(o deliverystore.ClaimOutcome) deliverer.ClaimOutcome {
	switch o {
	case deliverystore.Claimed:
		return deliverer.Claimed
	case deliverystore.Busy:
		return deliverer.Busy
	case deliverystore.RateLimited:
		return deliverer.RateLimited
	default:
		return deliverer.Settled
	}
}

func (a storeAdapter) Finish(ctx context.Context, f deliverer.Finish) (bool, error) {
	return a.s.Finish(ctx, deliverystore.Finish(f))
}

func (a storeAdapter) RecordDeadLetter(ctx context.Context, r deliverer.DeadLetterRecord) (bool, bool, error) {
	return a.s.RecordDeadLetter(ctx, deliverystore.DeadLetter(r))
}

func (a storeAdapter) Retry(ctx context.Context, id int64, now time.Time) (deliverer.Row, deliverer.Row, error) {
	before, after, err := a.s.Retry(ctx, id, now)
	return deliverer.Row(before), deliverer.Row(after), deliveryStoreErr(err)
}

func (a storeAdapter) UndoRetry(ctx context.Context, before deliverer.Row) error {
	return a.s.UndoRetry(ctx, deliverystore.Row(before))
}
