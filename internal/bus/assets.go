package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AssetOpts sizes the streams, consumers and KV buckets EnsureAssets
// creates. Zero fields take the defaults noted.
type AssetOpts struct {
	Replicas        int           // NATS_REPLICAS: 1 (default) on one node, 3 on a cluster
	NodeTTL         time.Duration // JETMON_NODES TTL (NODE_TTL_SEC), default 10s, >= 1s
	LeaderTTL       time.Duration // JETMON_LEADER TTL (LEADER_TTL_SEC), default 10s, >= 1s
	ResultsMaxAge   time.Duration // JETMON_RESULTS MaxAge, default 24h
	ResultsMaxBytes int64         // JETMON_RESULTS MaxBytes, default 1 GiB
	IngestBatch     int           // MaxAckPending of consumer "coordinator", default 1000
	AckWait         time.Duration // AckWait of consumer "coordinator", default 30s (short in tests)
	// DeliveryAckWait is the AckWait of the four JETMON_DELIVERY consumers
	// and of "dead-letters", default 60s: longer than a send's timeout.
	DeliveryAckWait time.Duration
	// DeliveryMaxDeliver is the MaxDeliver of consumers fanout, webhook and
	// alert, default 20; -1 is unlimited. Consumer wpcom is always
	// unlimited (deferrals while the WPCOM breaker is open must never
	// dead-letter a notification).
	DeliveryMaxDeliver int
}

// Defaults of AssetOpts.
const (
	DefaultNodeTTL            = 10 * time.Second
	DefaultLeaderTTL          = 10 * time.Second
	DefaultResultsMaxAge      = 24 * time.Hour
	DefaultResultsMaxBytes    = 1 << 30
	DefaultIngestBatch        = 1000
	DefaultAckWait            = 30 * time.Second
	DefaultDeliveryAckWait    = 60 * time.Second
	DefaultDeliveryMaxDeliver = 20
)

const (
	resultsDuplicates  = 2 * time.Minute
	deliveryDuplicates = 10 * time.Minute
	deliveryMaxAge     = 7 * 24 * time.Hour
	minKVTTL           = time.Second // the server's floor for limit marker TTLs
	maxReplicas        = 5
	ensureAttempts     = 10
	ensureBackoff      = 100 * time.Millisecond
	ensureBackoffMax   = 2 * time.Second
)

// Server error codes of a cluster that is forming or electing (nats-server
// jetstream_errors_generated.go); nats.go has no constants for them.
const (
	jsErrNoPeers          jetstream.ErrorCode = 10005 // no suitable peers for placement
	jsErrClusterNotAvail  jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable
	jsErrClusterNotLeader jetstream.ErrorCode = 10009
	jsErrStreamOffline    jetstream.ErrorCode = 10118
)

// schema is the Metadata every asset carries; owner names the role that
// writes it.
func schema(owner string) map[string]string {
	return map[string]string{"owner": owner, "schema": "v1"}
}

// withDefaults fills zero fields and validates.
func (o AssetOpts) withDefaults() (AssetOpts, error) {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	o.NodeTTL = cmpOr(o.NodeTTL, DefaultNodeTTL)
	o.LeaderTTL = cmpOr(o.LeaderTTL, DefaultLeaderTTL)
	o.ResultsMaxAge = cmpOr(o.ResultsMaxAge, DefaultResultsMaxAge)
	o.ResultsMaxBytes = cmpOr(o.ResultsMaxBytes, DefaultResultsMaxBytes)
	o.IngestBatch = cmpOr(o.IngestBatch, DefaultIngestBatch)
	o.AckWait = cmpOr(o.AckWait, DefaultAckWait)
	o.DeliveryAckWait = cmpOr(o.DeliveryAckWait, DefaultDeliveryAckWait)
	o.DeliveryMaxDeliver = cmpOr(o.DeliveryMaxDeliver, DefaultDeliveryMaxDeliver)
	switch {
	case o.Replicas < 1 || o.Replicas > maxReplicas:
		return o, fmt.Errorf("assets: replicas %d: must be 1-%d", o.Replicas, maxReplicas)
	case o.NodeTTL < minKVTTL || o.LeaderTTL < minKVTTL:
		return o, fmt.Errorf("assets: node ttl %v and leader ttl %v must be >= %v", o.NodeTTL, o.LeaderTTL, minKVTTL)
	case o.ResultsMaxAge < 0 || o.ResultsMaxBytes < 0 || o.IngestBatch < 0 || o.AckWait < 0:
		return o, errors.New("assets: negative results max age, max bytes, ingest batch or ack wait")
	case o.DeliveryAckWait < 0 || o.DeliveryMaxDeliver < -1:
		return o, fmt.Errorf("assets: delivery ack wait %v must be >= 0 and max deliver %d >= -1",
			o.DeliveryAckWait, o.DeliveryMaxDeliver)
	}
	return o, nil
}

// cmpOr is v, or def when v is zero.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// EnsureAssets creates or updates every stream, consumer and KV bucket of
// DESIGN §3 to match o. It is idempotent, and safe to run from several
// processes at once. Transient errors of a cluster that is still forming
// (no peers or meta leader yet) are retried with backoff for about 10s
// within ctx. Immutable settings (storage, retention) that differ from an
// existing asset make it fail.
//
// A consumer that exists but has no client holds its messages: work-queue
// messages leave JETMON_DELIVERY only when a deliverer acknowledges them.
func EnsureAssets(ctx context.Context, js jetstream.JetStream, o AssetOpts) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	for _, cfg := range streamConfigs(o) {
		if err := ensure(ctx, "stream "+cfg.Name, func() error {
			_, err := js.CreateOrUpdateStream(ctx, cfg)
			return err //nolint:wrapcheck // ensure wraps it
		}); err != nil {
			return err
		}
	}
	for _, c := range consumerConfigs(o) {
		if err := ensure(ctx, "consumer "+c.stream+"/"+c.cfg.Durable, func() error {
			_, err := js.CreateOrUpdateConsumer(ctx, c.stream, c.cfg)
			return err //nolint:wrapcheck // ensure wraps it
		}); err != nil {
			return err
		}
	}
	for _, cfg := range kvConfigs(o) {
		if err := ensure(ctx, "kv "+cfg.Bucket, func() error {
			_, err := js.CreateOrUpdateKeyValue(ctx, cfg)
			return err //nolint:wrapcheck // ensure wraps it
		}); err != nil {
			return err
		}
	}
	return nil
}

// ensure runs create-or-update until it succeeds, retrying (with backoff,
// within ctx) when a concurrent creator won the race between its update
// (not found) and its create (already in use), and on the transient errors
// of a cluster that is still forming or electing.
func ensure(ctx context.Context, what string, createOrUpdate func() error) error {
	var (
		err  error
		wait = ensureBackoff
	)
	for range ensureAttempts {
		if err = createOrUpdate(); err == nil {
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			break
		}
		sleep(ctx, wait)
		wait = min(2*wait, ensureBackoffMax)
	}
	return fmt.Errorf("ensure %s: %w", what, err)
}

// retryable reports whether an asset API error may pass on its own.
func retryable(err error) bool {
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jsErrNoPeers, jsErrClusterNotAvail, jsErrClusterNotLeader, jsErrStreamOffline:
		return true
	default:
		return false
	}
}

func streamConfigs(o AssetOpts) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name:        StreamResults,
			Description: "Jetmon check results from probers; read by the coordinator leader",
			Subjects:    []string{SubjectResultsAll},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      o.ResultsMaxAge,
			MaxBytes:    o.ResultsMaxBytes,
			Discard:     jetstream.DiscardOld,
			Duplicates:  resultsDuplicates,
			Metadata:    schema("prober"),
		},
		{
			Name:        StreamDelivery,
			Description: "Jetmon notification work queue",
			Subjects:    []string{SubjectDeliverAll},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
			MaxAge:      deliveryMaxAge,
			Discard:     jetstream.DiscardNew,
			Duplicates:  deliveryDuplicates,
			Metadata:    schema("coordinator"),
		},
		deadLetterStreamConfig(o),
	}
}

// streamConsumer is a consumer config and its stream.
type streamConsumer struct {
	stream string
	cfg    jetstream.ConsumerConfig
}

func consumerConfigs(o AssetOpts) []streamConsumer {
	cs := []streamConsumer{{StreamResults, coordinatorConsumerConfig(o)}}
	for _, cfg := range deliveryConsumerConfigs(o) {
		cs = append(cs, streamConsumer{StreamDelivery, cfg})
	}
	return append(cs, streamConsumer{StreamDeadLetters, deadLetterConsumerConfig(o)})
}

func coordinatorConsumerConfig(o AssetOpts) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerCoordinator,
		Description:   "Coordinator leader's ingestion of check results",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		// No message beyond the pending batch is delivered while it is
		// unacked, so the ingest watermark recognises every redelivery.
		MaxAckPending: o.IngestBatch,
		MaxDeliver:    -1,
		Metadata:      schema("coordinator"),
	}
}

func kvConfigs(o AssetOpts) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{
			Bucket: KVSites, Description: "Check specs of active sites by <bucket>.<blog_id>; written by the leader",
			History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas, Metadata: schema("coordinator"),
		},
		{
			Bucket: KVAssignments, Description: "Bucket ranges per prober node id, stamped with the leader epoch",
			History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas, Metadata: schema("coordinator"),
		},
		{
			Bucket: KVNodes, Description: "Presence of live nodes by <role>.<node_id>; expires after the TTL",
			History: 1, TTL: o.NodeTTL, LimitMarkerTTL: max(o.NodeTTL, minKVTTL),
			Storage: jetstream.FileStorage, Replicas: o.Replicas, Metadata: schema("all"),
		},
		{
			Bucket: KVLeader, Description: "Coordinator leader lease; the revision is the epoch",
			History: 1, TTL: o.LeaderTTL, LimitMarkerTTL: max(o.LeaderTTL, minKVTTL),
			Storage: jetstream.FileStorage, Replicas: o.Replicas, Metadata: schema("coordinator"),
		},
	}
}
