package bus_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestEnsureAssetsCreatesEverything(t *testing.T) {
	t.Parallel()
	o := testAssets()
	o.IngestBatch = 7
	o.AckWait = 3 * time.Second
	_, js := setup(t, o)
	ctx := t.Context()

	results, err := js.Stream(ctx, bus.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	rc := results.CachedInfo().Config
	if rc.Retention != jetstream.LimitsPolicy || rc.MaxAge != time.Hour || rc.MaxBytes != 64<<20 ||
		rc.Duplicates != 2*time.Minute || rc.Subjects[0] != bus.SubjectResultsAll || rc.Metadata["schema"] != "v1" {
		t.Errorf("results stream config: %+v", rc)
	}
	delivery, err := js.Stream(ctx, bus.StreamDelivery)
	if err != nil {
		t.Fatal(err)
	}
	if dc := delivery.CachedInfo().Config; dc.Retention != jetstream.WorkQueuePolicy || dc.Duplicates != 10*time.Minute {
		t.Errorf("delivery stream config: %+v", dc)
	}
	cons, err := js.Consumer(ctx, bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		t.Fatal(err)
	}
	if cc := cons.CachedInfo().Config; cc.AckPolicy != jetstream.AckExplicitPolicy || cc.MaxAckPending != 7 ||
		cc.AckWait != 3*time.Second || cc.Durable != bus.ConsumerCoordinator || cc.Metadata["owner"] != "coordinator" {
		t.Errorf("consumer config: %+v", cc)
	}
	for bucket, ttl := range map[string]time.Duration{bus.KVSites: 0, bus.KVAssignments: 0, bus.KVNodes: time.Second, bus.KVLeader: 2 * time.Second} {
		st, err := kv(t, js, bucket).Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
		if st.History() != 1 || st.TTL() != ttl || (ttl > 0) != (info.Config.SubjectDeleteMarkerTTL > 0) {
			t.Errorf("kv %s: history %d ttl %v marker ttl %v", bucket, st.History(), st.TTL(), info.Config.SubjectDeleteMarkerTTL)
		}
	}
}

func TestEnsureAssetsIsIdempotentAndUpdates(t *testing.T) {
	t.Parallel()
	o := testAssets()
	_, js := setup(t, o)
	if err := bus.EnsureAssets(t.Context(), js, o); err != nil {
		t.Fatalf("second run: %v", err)
	}
	o.IngestBatch = 50
	o.NodeTTL = 3 * time.Second
	if err := bus.EnsureAssets(t.Context(), js, o); err != nil {
		t.Fatalf("update: %v", err)
	}
	cons, err := js.Consumer(t.Context(), bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		t.Fatal(err)
	}
	if got := cons.CachedInfo().Config.MaxAckPending; got != 50 {
		t.Errorf("MaxAckPending after update = %d, want 50", got)
	}
	st, err := kv(t, js, bus.KVNodes).Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != 3*time.Second {
		t.Errorf("nodes TTL after update = %v", st.TTL())
	}
}

func TestEnsureAssetsConcurrently(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	var g errgroup.Group
	for range 3 {
		js := newJS(t, n.Conn(t))
		g.Go(func() error { return bus.EnsureAssets(t.Context(), js, testAssets()) })
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("concurrent ensure: %v", err)
	}
}

func TestEnsureAssetsRejectsBadOpts(t *testing.T) {
	t.Parallel()
	rows := map[string]bus.AssetOpts{
		"too many replicas": {Replicas: 7},
		"node ttl below 1s": {NodeTTL: 500 * time.Millisecond},
		"negative batch":    {IngestBatch: -1},
	}
	for name, o := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// No server: validation fails before any I/O.
			if err := bus.EnsureAssets(t.Context(), nil, o); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
