package deliverer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// storeError is a store failure before a send: the delivery is released
// without using an attempt.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// abandonError is a claimed delivery that can never be sent as it stands
// (its destination is gone or inactive, this node lacks its transport, its
// payload does not decode): it is abandoned with the note, unsent.
type abandonError struct{ note string }

func (e *abandonError) Error() string { return e.note }

func abandon(format string, args ...any) error {
	return &abandonError{note: fmt.Errorf(format, args...).Error()}
}

// send runs one claimed delivery's send through its transport, bounded by
// SendTimeout, with progress reported to the server while it runs.
func (r *Deliverer) send(ctx context.Context, m Message, row Row) (uptime.SendResult, error) {
	run, err := r.prepare(ctx, row)
	if err != nil {
		return uptime.SendResult{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, r.opts.SendTimeout)
	defer cancel()
	stop := heartbeat(sctx, max(r.opts.SendTimeout/4, 100*time.Millisecond), m.Progress)
	defer stop()
	return run(sctx)
}

// prepare loads what the delivery's kind needs and returns its send.
func (r *Deliverer) prepare(ctx context.Context, row Row) (func(context.Context) (uptime.SendResult, error), error) {
	switch row.Kind {
	case uptime.DeliveryWebhook:
		return r.prepareWebhook(ctx, row)
	case uptime.DeliveryAlert:
		return r.prepareAlert(ctx, row)
	case uptime.DeliveryWPCOM:
		return r.prepareWPCOM(row)
	default:
		return nil, abandon("unknown delivery kind %q", row.Kind)
	}
}

func (r *Deliverer) prepareWebhook(ctx context.Context, row Row) (func(context.Context) (uptime.SendResult, error), error) {
	hook, err := r.opts.Lookup.Webhook(ctx, row.DestinationID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, abandon("webhook %d no longer exists", row.DestinationID)
	case err != nil:
		return nil, &storeError{fmt.Errorf("load webhook %d: %w", row.DestinationID, err)}
	case !hook.Active:
		return nil, abandon("webhook %d is inactive", row.DestinationID)
	}
	return func(ctx context.Context) (uptime.SendResult, error) {
		return r.opts.Webhooks.SendWebhook(ctx, hook, row.Delivery)
	}, nil
}

func (r *Deliverer) prepareAlert(ctx context.Context, row Row) (func(context.Context) (uptime.SendResult, error), error) {
	contact, err := r.opts.Lookup.AlertContact(ctx, row.DestinationID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, abandon("alert contact %d no longer exists", row.DestinationID)
	case err != nil:
		return nil, &storeError{fmt.Errorf("load alert contact %d: %w", row.DestinationID, err)}
	case !contact.Active:
		return nil, abandon("alert contact %d is inactive", row.DestinationID)
	}
	sender, ok := r.opts.Alerts[contact.Transport]
	if !ok {
		return nil, abandon("no %s sender on this deliverer", contact.Transport)
	}
	p, err := ParsePayload(row.Payload)
	if err != nil {
		return nil, abandon("%w", err)
	}
	notice, err := noticeOf(row.Delivery, p, contact)
	if err != nil {
		return nil, abandon("%w", err)
	}
	return func(ctx context.Context) (uptime.SendResult, error) {
		return sender.SendAlert(ctx, contact.Destination, notice)
	}, nil
}

func (r *Deliverer) prepareWPCOM(row Row) (func(context.Context) (uptime.SendResult, error), error) {
	p, err := ParsePayload(row.Payload)
	if err != nil {
		return nil, abandon("%w", err)
	}
	change, err := statusChangeOf(p)
	if err != nil {
		return nil, abandon("%w", err)
	}
	return func(ctx context.Context) (uptime.SendResult, error) {
		res, err := r.opts.WPCOM.NotifyStatusChange(ctx, change)
		if r.opts.BreakerState != nil {
			r.m.setBreaker(r.opts.BreakerState())
		}
		return res, err
	}, nil
}
