package bus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
)

func newMover(t *testing.T, js jetstream.JetStream) *bus.DeadLetterMover {
	t.Helper()
	m, err := bus.NewDeadLetterMover(js, bus.DeadLetterMoverOpts{RetryDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDeadLetterMoverMovesExhaustedMessage: a job that runs out of
// deliveries reaches the mover's handler with its payload (again after a
// failed handling), then leaves JETMON_DELIVERY and its advisory leaves
// JETMON_DEAD_LETTERS.
func TestDeadLetterMoverMovesExhaustedMessage(t *testing.T) {
	t.Parallel()
	o := deliveryAssets()
	o.DeliveryMaxDeliver = 2
	_, js := setup(t, o)
	q := newWorkQueue(t, js, bus.ConsumerWebhook, bus.WorkQueueOpts{})
	consume(t, q, func(ctx context.Context, m bus.WorkMsg) {
		if err := m.Nak(ctx, 0); err != nil {
			t.Errorf("nak: %v", err)
		}
	})
	type handled struct {
		dl       bus.DeadLetter
		original error // GetMsg of the original while handling
	}
	got := make(chan handled, 4)
	var calls atomic.Int32
	delivery, err := js.Stream(t.Context(), bus.StreamDelivery)
	if err != nil {
		t.Fatal(err)
	}
	mover := newMover(t, js)
	run(t, func(ctx context.Context) error {
		return mover.Run(ctx, func(ctx context.Context, dl bus.DeadLetter) error {
			_, err := delivery.GetMsg(ctx, dl.StreamSeq)
			got <- handled{dl, err}
			if calls.Add(1) == 1 {
				return errors.New("database unavailable")
			}
			return nil
		})
	})
	job := publishJobs(t, js, "webhook", 31, 1)[0]
	payload, err := bus.EncodeJob(job)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		h := recv(t, got, 10*time.Second, "dead letter")
		dl := h.dl
		if dl.Stream != bus.StreamDelivery || dl.Consumer != bus.ConsumerWebhook || dl.StreamSeq != 1 ||
			dl.Deliveries != 2 || dl.Subject != "jetmon.deliver.webhook.1" || string(dl.Data) != string(payload) ||
			dl.Reason == "" || dl.At.IsZero() || len(dl.Header[jetstream.MsgIDHeader]) != 1 {
			t.Errorf("dead letter %d: %+v", i, dl)
		}
		if h.original != nil {
			t.Errorf("dead letter %d: original gone while handling: %v", i, h.original)
		}
	}
	eventually(t, 5*time.Second, "original and advisory removed", func() error {
		if n := streamMsgs(t, js, bus.StreamDelivery); n != 0 {
			return errorf("%d messages in %s", n, bus.StreamDelivery)
		}
		if n := streamMsgs(t, js, bus.StreamDeadLetters); n != 0 {
			return errorf("%d advisories in %s", n, bus.StreamDeadLetters)
		}
		return nil
	})
	if n := calls.Load(); n != 2 {
		t.Errorf("handler called %d times, want 2 (a failure, then the move)", n)
	}
}

// TestDeadLetterMoverOriginalGoneAndMalformed: a malformed advisory is
// terminated without reaching the handler; one whose original is gone is
// handled with nil Data and acknowledged.
func TestDeadLetterMoverOriginalGoneAndMalformed(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	ctx := t.Context()
	const subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.JETMON_DELIVERY.alert"
	advisories := []string{
		`not json`,
		`{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"OTHER","consumer":"alert","stream_seq":3,"deliveries":20}`,
		`{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"JETMON_DELIVERY","consumer":"webhook","stream_seq":3,"deliveries":20}`,
		`{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"JETMON_DELIVERY","consumer":"alert","stream_seq":999,"deliveries":20}`,
	}
	for _, a := range advisories {
		if _, err := js.Publish(ctx, subject, []byte(a)); err != nil {
			t.Fatalf("publish advisory: %v", err)
		}
	}
	got := make(chan bus.DeadLetter, 4)
	mover := newMover(t, js)
	run(t, func(ctx context.Context) error {
		return mover.Run(ctx, func(_ context.Context, dl bus.DeadLetter) error {
			got <- dl
			return nil
		})
	})
	dl := recv(t, got, 5*time.Second, "dead letter")
	if dl.StreamSeq != 999 || dl.Consumer != bus.ConsumerAlert || dl.Deliveries != 20 || dl.Data != nil ||
		dl.Subject != "" || !dl.At.IsZero() {
		t.Errorf("dead letter of a gone original: %+v", dl)
	}
	eventually(t, 5*time.Second, "advisories settled", func() error {
		if n := streamMsgs(t, js, bus.StreamDeadLetters); n != 0 {
			return errorf("%d advisories left", n)
		}
		return nil
	})
	select {
	case dl := <-got:
		t.Errorf("malformed advisory reached the handler: %+v", dl)
	default:
	}
}

func TestNewDeadLetterMoverRejectsBadOpts(t *testing.T) {
	t.Parallel()
	if _, err := bus.NewDeadLetterMover(nil, bus.DeadLetterMoverOpts{}); err == nil {
		t.Error("no jetstream: want an error")
	}
	if _, err := bus.NewDeadLetterMover(nil, bus.DeadLetterMoverOpts{RetryDelay: -time.Second}); err == nil {
		t.Error("negative retry delay: want an error")
	}
}
