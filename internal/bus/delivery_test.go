package bus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
)

// deliveryAssets are testAssets with short delivery settings.
func deliveryAssets() bus.AssetOpts {
	o := testAssets()
	o.DeliveryAckWait = 5 * time.Second
	o.DeliveryMaxDeliver = 3
	return o
}

// streamMsgs is how many messages stream holds now.
func streamMsgs(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	return s.CachedInfo().State.Msgs
}

// publishJobs publishes jobs of kind to destinations 1..n, delivery ids
// from first on, and returns them.
func publishJobs(t *testing.T, js jetstream.JetStream, kind string, first int64, n int) []bus.Job {
	t.Helper()
	p, err := bus.NewJobPublisher(js)
	if err != nil {
		t.Fatal(err)
	}
	jobs := make([]bus.Job, n)
	for i := range jobs {
		jobs[i] = bus.Job{DeliveryID: first + int64(i), Kind: kind, DestinationID: int64(i + 1), TransitionID: 77}
		if err := p.PublishJob(t.Context(), jobs[i]); err != nil {
			t.Fatalf("publish job %d: %v", jobs[i].DeliveryID, err)
		}
	}
	return jobs
}

func TestEnsureAssetsDeliveryConsumers(t *testing.T) {
	t.Parallel()
	o := deliveryAssets()
	_, js := setup(t, o)
	ctx := t.Context()
	want := map[string]struct {
		filter        string
		maxDeliver    int
		maxAckPending int // waiting retries hold slots on the dispatch consumers
	}{
		bus.ConsumerFanout:  {"jetmon.deliver.transition", 3, 1000},
		bus.ConsumerWebhook: {"jetmon.deliver.webhook.>", 3, 100_000},
		bus.ConsumerAlert:   {"jetmon.deliver.alert.>", 3, 100_000},
		bus.ConsumerWPCOM:   {"jetmon.deliver.wpcom.>", -1, 100_000},
	}
	for name, w := range want {
		cons, err := js.Consumer(ctx, bus.StreamDelivery, name)
		if err != nil {
			t.Fatalf("consumer %s: %v", name, err)
		}
		c := cons.CachedInfo().Config
		if c.Durable != name || c.FilterSubject != w.filter || c.MaxDeliver != w.maxDeliver || c.MaxAckPending != w.maxAckPending ||
			c.AckPolicy != jetstream.AckExplicitPolicy || c.DeliverPolicy != jetstream.DeliverAllPolicy ||
			c.AckWait != 5*time.Second || c.Metadata["owner"] != "deliverer" {
			t.Errorf("consumer %s config: %+v", name, c)
		}
	}
	dls, err := js.Stream(ctx, bus.StreamDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	if c := dls.CachedInfo().Config; c.Retention != jetstream.WorkQueuePolicy || c.Storage != jetstream.FileStorage ||
		c.MaxAge != 14*24*time.Hour || len(c.Subjects) != 1 ||
		c.Subjects[0] != "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.JETMON_DELIVERY.>" {
		t.Errorf("dead-letter stream config: %+v", c)
	}
	cons, err := js.Consumer(ctx, bus.StreamDeadLetters, bus.ConsumerDeadLetters)
	if err != nil {
		t.Fatal(err)
	}
	if c := cons.CachedInfo().Config; c.MaxDeliver != -1 || c.AckPolicy != jetstream.AckExplicitPolicy || c.FilterSubject != "" {
		t.Errorf("dead-letters consumer config: %+v", c)
	}

	// Idempotent, and an update changes the consumers in place.
	if err := bus.EnsureAssets(ctx, js, o); err != nil {
		t.Fatalf("second run: %v", err)
	}
	o.DeliveryAckWait, o.DeliveryMaxDeliver = 0, 0 // the defaults
	if err := bus.EnsureAssets(ctx, js, o); err != nil {
		t.Fatalf("update: %v", err)
	}
	webhook, err := js.Consumer(ctx, bus.StreamDelivery, bus.ConsumerWebhook)
	if err != nil {
		t.Fatal(err)
	}
	if c := webhook.CachedInfo().Config; c.AckWait != time.Minute || c.MaxDeliver != 20 {
		t.Errorf("webhook after update: ack wait %v max deliver %d, want 1m and 20", c.AckWait, c.MaxDeliver)
	}
}

// TestEnsureAssetsKeepsUnconsumedDeliveries: consumers without clients
// leave work-queue messages where they are, also across EnsureAssets runs.
func TestEnsureAssetsKeepsUnconsumedDeliveries(t *testing.T) {
	t.Parallel()
	o := deliveryAssets()
	_, js := setup(t, o)
	tp, err := bus.NewTransitionPublisher(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.PublishTransition(t.Context(), 9001, []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	publishJobs(t, js, "alert", 1, 1)
	if err := bus.EnsureAssets(t.Context(), js, o); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(t.Context(), bus.StreamDelivery)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 2; seq++ {
		if _, err := s.GetMsg(t.Context(), seq); err != nil {
			t.Errorf("message %d: %v", seq, err)
		}
	}
}

func TestEnsureAssetsRejectsBadDeliveryOpts(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]bus.AssetOpts{
		"negative ack wait":    {DeliveryAckWait: -time.Second},
		"max deliver below -1": {DeliveryMaxDeliver: -2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := bus.EnsureAssets(t.Context(), nil, o); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestPublishJobStoresOnce(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	p, err := bus.NewJobPublisher(js)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	j := bus.Job{DeliveryID: 41, Kind: "webhook", DestinationID: 7, TransitionID: 9001}
	for range 2 {
		if err := p.PublishJob(ctx, j); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	if n := streamMsgs(t, js, bus.StreamDelivery); n != 1 {
		t.Fatalf("stream holds %d messages after a duplicate publish, want 1", n)
	}
	s, err := js.Stream(ctx, bus.StreamDelivery)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "jetmon.deliver.webhook.7" || msg.Header.Get(jetstream.MsgIDHeader) != "delivery-41-0" {
		t.Errorf("stored %s with msg id %q", msg.Subject, msg.Header.Get(jetstream.MsgIDHeader))
	}
	if got, err := bus.DecodeJob(msg.Data); err != nil || got != j {
		t.Errorf("stored job %+v, %v", got, err)
	}
	j.Generation++ // a manual retry is a new message
	if err := p.PublishJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishJob(ctx, bus.Job{DeliveryID: 42, Kind: "sms", TransitionID: 1}); !errors.Is(err, bus.ErrMalformed) {
		t.Errorf("publish of an invalid job = %v, want ErrMalformed", err)
	}
	if n := streamMsgs(t, js, bus.StreamDelivery); n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}
}

func TestDeliveryBacklog(t *testing.T) {
	t.Parallel()
	_, js := setup(t, deliveryAssets())
	ctx := t.Context()
	publishJobs(t, js, "webhook", 1, 3)
	publishJobs(t, js, "alert", 10, 1)
	webhook, err := js.Consumer(ctx, bus.StreamDelivery, bus.ConsumerWebhook)
	if err != nil {
		t.Fatal(err)
	}
	// All three in flight, one of them given back and delivered again.
	batch, err := webhook.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 3 {
		t.Fatalf("fetched %d messages, want 3 (%v)", len(msgs), batch.Error())
	}
	if err := msgs[0].Nak(); err != nil {
		t.Fatal(err)
	}
	again, err := webhook.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if md, err := again.Metadata(); err != nil || md.NumDelivered != 2 {
		t.Fatalf("redelivery metadata %+v, %v", md, err)
	}
	if err := js.DeleteConsumer(ctx, bus.StreamDelivery, bus.ConsumerWPCOM); err != nil {
		t.Fatal(err)
	}
	want := map[string]bus.ConsumerBacklog{
		bus.ConsumerFanout:  {},
		bus.ConsumerWebhook: {NumPending: 0, NumAckPending: 3, NumRedelivered: 1},
		bus.ConsumerAlert:   {NumPending: 1},
	}
	eventually(t, 5*time.Second, "backlog", func() error {
		got, err := bus.DeliveryBacklog(ctx, js)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return errorf("backlog %+v, want %+v", got, want)
		}
		for name, w := range want {
			if got[name] != w {
				return errorf("backlog %+v, want %+v", got, want)
			}
		}
		return nil
	})
}
