package coordinator

import (
	"context"
	"errors"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ErrFenced means a newer leader holds the epoch: this coordinator must stop
// writing and step down. Stores return it (wrapped) from fenced writes.
var ErrFenced = errors.New("coordinator epoch fenced by a newer leader")

// Elector wins and keeps the coordinator lease (internal/bus: KV JETMON_LEADER).
type Elector interface {
	// Campaign blocks until this node holds the lease or ctx ends.
	Campaign(ctx context.Context) (Term, error)
}

// Term is one period of leadership.
type Term interface {
	// Epoch is the lease revision: strictly greater than every earlier term's.
	Epoch() uint64
	// Lost is closed the moment the lease is lost (a renew failed, or the
	// local deadline passed before a renew succeeded).
	Lost() <-chan struct{}
	// Resign gives the lease up at once with a conditional delete that
	// cannot remove a successor's lease.
	Resign(ctx context.Context) error
}

// Fence is the MySQL fencing row (jetmon_coordinator_lease).
type Fence interface {
	// Advance records epoch as current on taking leadership; ErrFenced if the
	// row already holds a higher epoch.
	Advance(ctx context.Context, epoch uint64, holder string) error
}

// Directory tells which nodes are alive (internal/bus: KV JETMON_NODES).
type Directory interface {
	// WatchNodes sends the full set of live nodes of role at once and again
	// whenever it changes, until ctx ends (then the channel closes).
	WatchNodes(ctx context.Context, role string) (<-chan []uptime.Node, error)
}

// Assignments is KV JETMON_ASSIGNMENTS.
type Assignments interface {
	// List returns every stored assignment by node id.
	List(ctx context.Context) (map[string]uptime.Assignment, error)
	Put(ctx context.Context, a uptime.Assignment) error
	Delete(ctx context.Context, nodeID string) error
}

// SiteKey identifies one mirrored site.
type SiteKey struct {
	Bucket int
	BlogID int64
}

// SiteMirror is KV JETMON_SITES, written by the leader only.
type SiteMirror interface {
	Keys(ctx context.Context) ([]SiteKey, error)
	Put(ctx context.Context, s uptime.Site) error
	Delete(ctx context.Context, k SiteKey) error
}

// SiteChange is a site row seen by an incremental sync: active sites are
// mirrored, inactive ones removed.
type SiteChange struct {
	Site   uptime.Site
	Active bool
}

// SiteSource reads jetpack_monitor_sites.
type SiteSource interface {
	// ActiveSites returns every active site whose bucket lies in r.
	ActiveSites(ctx context.Context, r uptime.BucketRange) ([]uptime.Site, error)
	// ChangedSince returns every row (active or not, any bucket) whose
	// updated_at is at or after since, oldest first.
	ChangedSince(ctx context.Context, since time.Time) ([]SiteChange, error)
}

// Delivery is one result fetched from the results stream.
type Delivery struct {
	Seq    uint64 // stream sequence: ingestion is idempotent by it
	Result uptime.ProbeResult
}

// Batch is what one fetch returned. Ack after the batch is committed;
// Extend while a commit is being retried so the server does not redeliver.
type Batch struct {
	Deliveries []Delivery
	Ack        func(ctx context.Context) error
	Extend     func() error
}

// ResultSource is the coordinator's durable pull consumer on JETMON_RESULTS.
// Malformed messages are terminated and counted by the adapter, never
// returned.
type ResultSource interface {
	Fetch(ctx context.Context, max int, wait time.Duration) (Batch, error)
	// Rewind makes every delivered but unacknowledged result deliverable
	// again at once, oldest first. Each term calls it before its first
	// Fetch: results a dead leader had fetched and not committed would
	// otherwise wait out their ack deadline while later ones move the
	// watermark past them, and be skipped as already committed.
	Rewind(ctx context.Context) error
}

// Rollup is one site-hour of check statistics. The RTT sum, minimum and
// maximum and the phase sums cover only the RTTSamples checks that reported
// an RTT; with RTTSamples 0 the minimum and maximum mean nothing.
type Rollup struct {
	BlogID   int64
	Hour     time.Time // truncated to the hour, UTC
	Checks   int
	Failures int
	RTTSumMs int64
	RTTMinMs int64
	RTTMaxMs int64
	// RTTSamples counts the checks with an RTT (jetmon_check_rollups_hourly.rtt_samples).
	RTTSamples int
	DNSSumMs   int64
	TCPSumMs   int64
	TLSSumMs   int64
	TTFBSumMs  int64
}

// IngestBatch is everything one batch of results writes, in one transaction.
type IngestBatch struct {
	Consumer string
	// FromSeq is the watermark the batch starts from and ToSeq the one it
	// ends at: the store advances the watermark only from FromSeq, so a
	// batch is committed at most once.
	FromSeq, ToSeq uint64
	History        []uptime.ProbeResult // raw rows: failures, state changes, sampled successes
	Rollups        []Rollup
	LastChecked    map[int64]time.Time // blog_id -> last check time
	SSLExpiry      map[int64]time.Time // blog_id -> leaf expiry, only when changed
}

// IngestStore commits result batches (internal/sqlstore).
type IngestStore interface {
	// Watermark is the highest stream sequence committed for consumer.
	Watermark(ctx context.Context, consumer string) (uint64, error)
	// Commit writes b in one transaction after checking that epoch is still
	// current (else ErrFenced) and that the watermark is still b.FromSeq.
	Commit(ctx context.Context, epoch uint64, b IngestBatch) error
}

// CommandHandler answers one command verb's payload.
type CommandHandler func(ctx context.Context, payload []byte) ([]byte, error)

// CommandServer serves jetmon.cmd.coordinator.<verb> while this node leads.
type CommandServer interface {
	ServeCommands(ctx context.Context, handlers map[string]CommandHandler) error
}

// Verifier asks verifliers of other regions to check a site (internal/bus:
// scatter-gather on jetmon.verify.<region>, one queue group per region).
type Verifier interface {
	// Verify sends spec to one veriflier of every region in regions and
	// returns the votes that arrived before ctx's deadline (missing regions
	// are simply absent). No responders at all is not an error: zero votes.
	Verify(ctx context.Context, regions []string, blogID int64, spec uptime.CheckSpec) ([]uptime.Vote, error)
}

// OutboxRow is one transition not yet on JetStream.
type OutboxRow struct {
	ID           int64
	TransitionID int64
	Payload      []byte
}

// Outbox is jetmon_outbox (internal/sqlstore).
type Outbox interface {
	// Pending returns up to limit rows, oldest first.
	Pending(ctx context.Context, limit int) ([]OutboxRow, error)
	// Delete removes published rows.
	Delete(ctx context.Context, ids []int64) error
}

// TransitionPublisher publishes one transition to JETMON_DELIVERY
// (jetmon.deliver.transition, Nats-Msg-Id transition-<id>), returning once
// the server stored it.
type TransitionPublisher interface {
	PublishTransition(ctx context.Context, transitionID int64, payload []byte) error
}
