package deliverer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// DefaultTestTimeout bounds one send-test.
const DefaultTestTimeout = 15 * time.Second

// OpsOpts configures Ops. Store, Contacts and Jobs are required.
type OpsOpts struct {
	Store    RetryStore
	Contacts DestinationStore
	Jobs     JobPublisher
	// Alerts are the alert senders, the same the deliverers use; a
	// transport without one is ErrTransportNotConfigured.
	Alerts      map[uptime.AlertTransport]AlertSender
	TestTimeout time.Duration    // default 15s
	Logger      *slog.Logger     // default: discard
	Now         func() time.Time // default time.Now
}

// Ops are the deliverer's entry points for the API: manual retry and
// send-test. They need no running deliverer role, only the store, the job
// publisher and the alert senders.
type Ops struct {
	o   OpsOpts
	log *slog.Logger
}

// NewOps validates o; it does no I/O.
func NewOps(o OpsOpts) (*Ops, error) {
	if o.Store == nil || o.Contacts == nil || o.Jobs == nil {
		return nil, errors.New("deliverer ops: store, contacts and job publisher required")
	}
	if o.TestTimeout < 0 {
		return nil, errors.New("deliverer ops: test timeout must not be negative")
	}
	if o.TestTimeout == 0 {
		o.TestTimeout = DefaultTestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ops{o: o, log: o.Logger.With("component", "deliverer-ops")}, nil
}

// Retry re-enqueues a failed or abandoned delivery: the row becomes
// pending with attempt 0, due now, its last_* cleared and its generation
// raised, keeping its attempts; a job with the new generation's message id
// is published. It returns the row as reset. Errors wrap ErrNotFound or
// ErrNotRetryable (the row's current status is in the message); when the
// job cannot be published the reset is undone and the error returned.
func (o *Ops) Retry(ctx context.Context, deliveryID int64) (uptime.Delivery, error) {
	before, after, err := o.o.Store.Retry(ctx, deliveryID, o.o.Now())
	if err != nil {
		return uptime.Delivery{}, fmt.Errorf("retry delivery %d: %w", deliveryID, err)
	}
	if err := o.o.Jobs.PublishJob(ctx, jobOf(after)); err != nil {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		if uerr := o.o.Store.UndoRetry(uctx, before); uerr != nil {
			o.log.Error("undo retry after a failed publish", "delivery_id", deliveryID, "err", uerr)
		}
		return uptime.Delivery{}, fmt.Errorf("retry delivery %d: %w", deliveryID, err)
	}
	o.log.Info("delivery re-enqueued", "delivery_id", deliveryID, "generation", after.Generation)
	return after.Delivery, nil
}

// SendTest sends a synthetic test notice to an alert contact through the
// same sender the deliverers use, bypassing its site filter, minimum
// severity, active flag and rate cap; no delivery row is written. Errors
// wrap ErrNotFound or ErrTransportNotConfigured, or are the transport's
// (the result is filled whenever the receiver answered).
func (o *Ops) SendTest(ctx context.Context, contactID int64) (uptime.SendResult, error) {
	c, err := o.o.Contacts.AlertContact(ctx, contactID)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("send test to alert contact %d: %w", contactID, err)
	}
	sender, ok := o.o.Alerts[c.Transport]
	if !ok {
		return uptime.SendResult{}, fmt.Errorf("send test to alert contact %d (%s): %w", contactID, c.Transport,
			ErrTransportNotConfigured)
	}
	sctx, cancel := context.WithTimeout(ctx, o.o.TestTimeout)
	defer cancel()
	res, err := sender.SendAlert(sctx, c.Destination, testNotice(c, o.o.Now()))
	if err != nil {
		return res, fmt.Errorf("send test to alert contact %d (%s): %w", contactID, c.Transport, err)
	}
	return res, nil
}
