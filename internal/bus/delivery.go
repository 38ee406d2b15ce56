package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	deadLetterMaxAge     = 14 * 24 * time.Hour
	deadLetterDuplicates = 2 * time.Minute
	// dispatchMaxAckPending bounds the jobs a dispatch consumer has out at
	// once. A job waiting for a delayed retry (up to 6 h) holds its slot, so
	// the server default of 1,000 would let a thousand failing deliveries
	// stall every new one of their kind. Workers pull one job at a time, so
	// this is not a client buffer.
	dispatchMaxAckPending = 100_000
)

// DeliveryConsumers are the durable consumers of JETMON_DELIVERY, in the
// order a delivery passes them: fan-out, then dispatch per kind.
func DeliveryConsumers() []string {
	return []string{ConsumerFanout, ConsumerWebhook, ConsumerAlert, ConsumerWPCOM}
}

// deliveryConsumerConfigs are the consumers of JETMON_DELIVERY: disjoint
// filters (a work-queue stream allows no overlap), explicit acks, AckWait
// longer than a send.
func deliveryConsumerConfigs(o AssetOpts) []jetstream.ConsumerConfig {
	consumer := func(name, filter, description string, maxDeliver, maxAckPending int) jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{
			Durable:       name,
			Description:   description,
			FilterSubject: filter,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       o.DeliveryAckWait,
			MaxDeliver:    maxDeliver,
			MaxAckPending: maxAckPending,
			Metadata:      schema("deliverer"),
		}
	}
	return []jetstream.ConsumerConfig{
		// The fan-out never waits for a retry: the server's default (1,000)
		// of messages awaiting an ack.
		consumer(ConsumerFanout, SubjectDeliverTransition,
			"Deliverers' fan-out of committed transitions to delivery rows and jobs", o.DeliveryMaxDeliver, 0),
		consumer(ConsumerWebhook, jobFilter(ConsumerWebhook), "Deliverers' dispatch of webhook jobs",
			o.DeliveryMaxDeliver, dispatchMaxAckPending),
		consumer(ConsumerAlert, jobFilter(ConsumerAlert), "Deliverers' dispatch of alert-contact jobs",
			o.DeliveryMaxDeliver, dispatchMaxAckPending),
		// Unlimited: a Nak while the WPCOM breaker is open counts as a
		// delivery; real attempts are bounded by RETRY_SCHEDULE in MySQL.
		consumer(ConsumerWPCOM, jobFilter(ConsumerWPCOM), "Deliverers' dispatch of legacy WPCOM notifications",
			-1, dispatchMaxAckPending),
	}
}

// deadLetterStreamConfig captures the max-deliveries advisories of
// JETMON_DELIVERY: the server publishes each once, and a core subscription
// would miss those sent while no mover runs.
func deadLetterStreamConfig(o AssetOpts) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamDeadLetters,
		Description: "Max-deliveries advisories of JETMON_DELIVERY; the deliverers' mover records and removes the originals",
		Subjects:    []string{SubjectDeadLetterAdvisories},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      deadLetterMaxAge,
		Discard:     jetstream.DiscardOld,
		Duplicates:  deadLetterDuplicates,
		Metadata:    schema("deliverer"),
	}
}

// deadLetterConsumerConfig never gives up: an advisory is only acked once
// its original is recorded.
func deadLetterConsumerConfig(o AssetOpts) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerDeadLetters,
		Description:   "Deliverers' dead-letter mover",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.DeliveryAckWait,
		MaxDeliver:    -1,
		Metadata:      schema("deliverer"),
	}
}

// JobPublisher stores delivery jobs on JETMON_DELIVERY: the fan-out's and
// a manual retry's.
type JobPublisher struct {
	js jetstream.JetStream
}

// NewJobPublisher returns a JobPublisher on js; it does no I/O.
func NewJobPublisher(js jetstream.JetStream) (*JobPublisher, error) {
	if js == nil {
		return nil, errors.New("job publisher: jetstream is required")
	}
	return &JobPublisher{js: js}, nil
}

// PublishJob stores j on JobSubject(j.Kind, j.DestinationID) with
// Nats-Msg-Id JobMsgID(j.DeliveryID, j.Generation) and returns once the
// server acknowledged it. The same job published again within the stream's
// duplicate window is acknowledged as a duplicate and stored once, which
// is success too. An invalid job is an error wrapping ErrMalformed; ctx
// bounds the wait.
func (p *JobPublisher) PublishJob(ctx context.Context, j Job) error {
	data, err := EncodeJob(j)
	if err != nil {
		return fmt.Errorf("publish job: %w", err)
	}
	ack, err := p.js.Publish(ctx, JobSubject(j.Kind, j.DestinationID), data,
		jetstream.WithMsgID(JobMsgID(j.DeliveryID, j.Generation)), jetstream.WithExpectStream(StreamDelivery))
	if err != nil {
		return fmt.Errorf("publish job of delivery %d: %w", j.DeliveryID, err)
	}
	if ack == nil || ack.Stream != StreamDelivery || ack.Sequence == 0 {
		return fmt.Errorf("publish job of delivery %d: not stored (ack %+v)", j.DeliveryID, ack)
	}
	return nil
}

// ConsumerBacklog is the work of one consumer, from its consumer info.
type ConsumerBacklog struct {
	NumPending     uint64 // stored, matching the filter, not yet delivered
	NumAckPending  int    // delivered and not yet acknowledged (in flight or waiting for a redelivery)
	NumRedelivered int    // of NumAckPending, delivered more than once
}

// DeliveryBacklog reads the backlog of every DeliveryConsumers consumer
// (one consumer info request each). A consumer that does not exist (or a
// missing stream) is absent from the map, not an error.
func DeliveryBacklog(ctx context.Context, js jetstream.JetStream) (map[string]ConsumerBacklog, error) {
	out := make(map[string]ConsumerBacklog, len(DeliveryConsumers()))
	for _, name := range DeliveryConsumers() {
		cons, err := js.Consumer(ctx, StreamDelivery, name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("delivery backlog of %s: %w", name, err)
		}
		info := cons.CachedInfo()
		out[name] = ConsumerBacklog{NumPending: info.NumPending, NumAckPending: info.NumAckPending,
			NumRedelivered: info.NumRedelivered}
	}
	return out, nil
}
