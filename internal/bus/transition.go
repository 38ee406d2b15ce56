package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// TransitionPublisher stores committed incident transitions on
// JETMON_DELIVERY for the deliverers; the coordinator's outbox relay uses it.
type TransitionPublisher struct {
	js jetstream.JetStream
}

// NewTransitionPublisher returns a TransitionPublisher on js; it does no I/O.
func NewTransitionPublisher(js jetstream.JetStream) (*TransitionPublisher, error) {
	if js == nil {
		return nil, errors.New("transition publisher: jetstream is required")
	}
	return &TransitionPublisher{js: js}, nil
}

// PublishTransition stores payload on SubjectDeliverTransition with
// Nats-Msg-Id TransitionMsgID(transitionID) and returns once the server
// acknowledged it. A republish of the same transition within the stream's
// duplicate window is acknowledged as a duplicate and stored once, which is
// success too. ctx bounds the wait.
func (p *TransitionPublisher) PublishTransition(ctx context.Context, transitionID int64, payload []byte) error {
	if transitionID <= 0 {
		return fmt.Errorf("publish transition: id %d must be > 0", transitionID)
	}
	ack, err := p.js.Publish(ctx, SubjectDeliverTransition, payload,
		jetstream.WithMsgID(TransitionMsgID(transitionID)), jetstream.WithExpectStream(StreamDelivery))
	if err != nil {
		return fmt.Errorf("publish transition %d: %w", transitionID, err)
	}
	if ack == nil || ack.Stream != StreamDelivery || ack.Sequence == 0 {
		return fmt.Errorf("publish transition %d: not stored (ack %+v)", transitionID, ack)
	}
	return nil
}
