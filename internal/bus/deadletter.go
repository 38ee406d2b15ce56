package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultDeadLetterRetry is how long the mover waits before it tries an
// advisory again after a failure (DeadLetterMoverOpts.RetryDelay).
const DefaultDeadLetterRetry = 30 * time.Second

// DeadLetter is a JETMON_DELIVERY message that ran out of deliveries, as
// reported by the server's max-deliveries advisory, with the original
// message when it was still stored.
type DeadLetter struct {
	Stream     string // the original's stream: JETMON_DELIVERY
	Consumer   string // the consumer that gave up: fanout, webhook, alert or wpcom
	Subject    string // the original's subject; "" when it was gone
	StreamSeq  uint64
	Deliveries uint64 // how often it was delivered
	Reason     string // for the record: "max deliveries: ..."
	// Data and Header are the original's; Data is nil when the original
	// was no longer stored (acknowledged late, or deleted).
	Data   []byte
	Header map[string][]string
	At     time.Time // when the original was stored; zero when it was gone
}

// DeadLetterMoverOpts configures a DeadLetterMover.
type DeadLetterMoverOpts struct {
	// RetryDelay is the redelivery delay of an advisory whose handling
	// failed; default DefaultDeadLetterRetry.
	RetryDelay time.Duration
	// DrainTimeout bounds the handling in progress when Run's ctx ends;
	// default DefaultDrainTimeout.
	DrainTimeout time.Duration
	Logger       *slog.Logger
}

// DeadLetterMover moves JETMON_DELIVERY's dead letters out of the stream:
// it reads the max-deliveries advisories captured by JETMON_DEAD_LETTERS
// (consumer dead-letters), loads each original, hands it to a handler that
// records it, then deletes the original. Several movers may run at once;
// each advisory goes to one of them.
type DeadLetterMover struct {
	js jetstream.JetStream
	o  DeadLetterMoverOpts
	q  *WorkQueue
}

// NewDeadLetterMover validates o; it does no I/O.
func NewDeadLetterMover(js jetstream.JetStream, o DeadLetterMoverOpts) (*DeadLetterMover, error) {
	o.RetryDelay = cmpOr(o.RetryDelay, DefaultDeadLetterRetry)
	if o.RetryDelay < 0 {
		return nil, fmt.Errorf("dead-letter mover: retry delay %v must be >= 0", o.RetryDelay)
	}
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler))
	q, err := newWorkQueue(js, StreamDeadLetters, ConsumerDeadLetters,
		WorkQueueOpts{Workers: 1, DrainTimeout: o.DrainTimeout, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("dead-letter mover: %w", err)
	}
	return &DeadLetterMover{js: js, o: o, q: q}, nil
}

// Run moves dead letters until ctx ends, one at a time. For each advisory
// it calls handle with the original (Data nil when it is already gone);
// when handle returns nil it deletes the original from JETMON_DELIVERY and
// acknowledges the advisory. When handle (or NATS) fails, the advisory is
// redelivered after RetryDelay, so handle must be idempotent (keyed on
// Stream and StreamSeq). A malformed advisory is terminated and logged.
// Run returns nil once ctx ended and the handling in progress finished
// (see WorkQueue.Consume).
func (d *DeadLetterMover) Run(ctx context.Context, handle func(context.Context, DeadLetter) error) error {
	if handle == nil {
		return errors.New("dead-letter mover: handle is required")
	}
	return d.q.Consume(ctx, func(ctx context.Context, m WorkMsg) { d.move(ctx, m, handle) })
}

// move handles one advisory.
func (d *DeadLetterMover) move(ctx context.Context, m WorkMsg, handle func(context.Context, DeadLetter) error) {
	adv, err := decodeMaxDeliverAdvisory(m.Subject, m.Data)
	if err != nil {
		d.o.Logger.Warn("dead letters: malformed advisory; terminating it", "subject", m.Subject,
			"seq", m.StreamSeq, "err", err)
		if err := m.Term(ctx, err.Error()); err != nil {
			d.o.Logger.Warn("dead letters: terminate advisory", "err", err)
		}
		return
	}
	log := d.o.Logger.With("consumer_gave_up", adv.Consumer, "stream_seq", adv.StreamSeq)
	stream, dl, err := d.load(ctx, adv)
	if err == nil {
		if err = handle(ctx, dl); err != nil {
			err = fmt.Errorf("handle: %w", err)
		}
	}
	if err == nil && dl.Data != nil {
		err = d.remove(ctx, stream, adv.StreamSeq)
	}
	if err != nil {
		log.Warn("dead letters: move failed; retrying later", "retry_in", d.o.RetryDelay, "err", err)
		if err := m.Nak(ctx, d.o.RetryDelay); err != nil {
			log.Warn("dead letters: nak advisory", "err", err)
		}
		return
	}
	if err := m.Ack(ctx); err != nil {
		log.Warn("dead letters: ack advisory", "err", err)
	}
}

// load builds the dead letter of adv with its original, if still stored.
func (d *DeadLetterMover) load(ctx context.Context, adv maxDeliverAdvisory) (jetstream.Stream, DeadLetter, error) {
	dl := DeadLetter{Stream: adv.Stream, Consumer: adv.Consumer, StreamSeq: adv.StreamSeq, Deliveries: adv.Deliveries,
		Reason: fmt.Sprintf("max deliveries: consumer %s gave up after %d deliveries", adv.Consumer, adv.Deliveries)}
	stream, err := d.js.Stream(ctx, adv.Stream)
	if err != nil {
		return nil, dl, fmt.Errorf("stream %s: %w", adv.Stream, err)
	}
	raw, err := stream.GetMsg(ctx, adv.StreamSeq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return stream, dl, nil
	case err != nil:
		return nil, dl, fmt.Errorf("get %s #%d: %w", adv.Stream, adv.StreamSeq, err)
	}
	dl.Subject, dl.Header, dl.At = raw.Subject, map[string][]string(raw.Header), raw.Time.UTC()
	dl.Data = raw.Data
	if dl.Data == nil {
		dl.Data = []byte{} // an empty original is still an original
	}
	return stream, dl, nil
}

// remove deletes the original; one that is already gone is fine.
func (d *DeadLetterMover) remove(ctx context.Context, stream jetstream.Stream, seq uint64) error {
	err := stream.DeleteMsg(ctx, seq)
	if err == nil {
		return nil
	}
	if _, gone := stream.GetMsg(ctx, seq); errors.Is(gone, jetstream.ErrMsgNotFound) {
		return nil
	}
	return fmt.Errorf("delete %s #%d: %w", stream.CachedInfo().Config.Name, seq, err)
}

// maxDeliverAdvisory is the server's JSConsumerDeliveryExceededAdvisory.
type maxDeliverAdvisory struct {
	Type       string `json:"type"`
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// decodeMaxDeliverAdvisory decodes an advisory of a JETMON_DELIVERY
// consumer and checks it against its subject.
func decodeMaxDeliverAdvisory(subject string, data []byte) (maxDeliverAdvisory, error) {
	var a maxDeliverAdvisory
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("decode advisory: %w", err)
	}
	switch {
	case a.Type != AdvisoryMaxDeliverType:
		return a, fmt.Errorf("advisory type %q, want %s", a.Type, AdvisoryMaxDeliverType)
	case a.Stream != StreamDelivery:
		return a, fmt.Errorf("advisory of stream %q, want %s", a.Stream, StreamDelivery)
	case a.StreamSeq == 0 || !keyToken.MatchString(a.Consumer):
		return a, fmt.Errorf("advisory without stream_seq (%d) or consumer (%q)", a.StreamSeq, a.Consumer)
	case subject != subjectMaxDeliveries+"."+a.Stream+"."+a.Consumer:
		return a, fmt.Errorf("advisory of %s/%s on subject %s", a.Stream, a.Consumer, subject)
	}
	return a, nil
}
