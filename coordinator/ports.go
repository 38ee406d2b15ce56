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

// ErrIncidentConflict means the store's incident state disagrees with the
// decisions' (an open that finds an open event, an update that finds none):
// the in-memory state cannot be trusted, so the term ends and the next one
// rebuilds it from the store.
var ErrIncidentConflict = errors.New("incident state differs from the store")

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

// SiteRecord is one site as the incident decisions need it: its
// configuration (maintenance window, cooldown override, check spec) and the
// bookkeeping the coordinator writes on its row.
type SiteRecord struct {
	Site   uptime.Site
	Active bool
	// LastCheckedAt is the newest committed check (last_checked_at, whole
	// seconds); zero when never checked.
	LastCheckedAt time.Time
	// LastAlertSentAt is the last down notification (last_alert_sent_at),
	// the start of its cooldown; zero when none.
	LastAlertSentAt time.Time
}

// SiteSource reads jetpack_monitor_sites.
type SiteSource interface {
	// ActiveSites returns every active site whose bucket lies in r.
	ActiveSites(ctx context.Context, r uptime.BucketRange) ([]uptime.Site, error)
	// ChangedSince returns every row (active or not, any bucket) whose
	// updated_at is at or after since, oldest first.
	ChangedSince(ctx context.Context, since time.Time) ([]SiteChange, error)
	// Sites returns the sites of blogIDs, active or not; blogs without a
	// row are absent. The coordinator reads only sites with incident state
	// or failing results, so the all-up majority costs no memory.
	Sites(ctx context.Context, blogIDs []int64) ([]SiteRecord, error)
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
	// Incidents are the incident changes decided from the batch's results:
	// they commit in the same transaction or not at all.
	Incidents IncidentWrite
}

// IncidentWrite is one atomic write of incident state: event changes (each
// one transition and one outbox row), false positives and down
// notifications sent, with what the outbox payloads carry besides the
// transition and its event.
type IncidentWrite struct {
	Changes        []uptime.Change
	FalsePositives []uptime.FalsePositive
	// AlertsSent is last_alert_sent_at by blog: the down notifications
	// decided by these changes.
	AlertsSent map[int64]time.Time
	// Sites are the sites the changes are about, as decided: each
	// transition's outbox payload carries its site's snapshot.
	Sites map[int64]uptime.Site
	// Votes are the votes of a confirmation decided by this write, by blog:
	// the outbox payloads of that blog's transitions carry them.
	Votes map[int64][]uptime.Vote
}

// Empty reports whether w writes nothing.
func (w IncidentWrite) Empty() bool {
	return len(w.Changes) == 0 && len(w.FalsePositives) == 0 && len(w.AlertsSent) == 0
}

// IngestStore commits result batches (internal/sqlstore with
// internal/eventstore).
type IngestStore interface {
	// Watermark is the highest stream sequence committed for consumer.
	Watermark(ctx context.Context, consumer string) (uint64, error)
	// Commit writes b, b.Incidents included, in one transaction after
	// checking that epoch is still current (else ErrFenced) and that the
	// watermark is still b.FromSeq. ErrIncidentConflict: the store's open
	// events disagree with b.Incidents.
	Commit(ctx context.Context, epoch uint64, b IngestBatch) error
}

// IncidentStore is the single writer of incident state outside result
// batches (verification outcomes, operator commands) and its reader
// (internal/eventstore).
type IncidentStore interface {
	// OpenEvents returns every open event: the state a new term starts from.
	OpenEvents(ctx context.Context) ([]uptime.Event, error)
	// Apply writes w in one transaction that first checks that epoch is
	// still current (else ErrFenced, writing nothing). ErrIncidentConflict:
	// the store's open events disagree with w.
	Apply(ctx context.Context, epoch uint64, w IncidentWrite) error
}

// EventReader reads one event by id (internal/eventstore), for the
// commands that name an event (event.close with an event_id).
type EventReader interface {
	// Event returns the event with id, open or closed; found is false when
	// no event the mesh manages has that id.
	Event(ctx context.Context, id int64) (ev uptime.Event, found bool, err error)
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

// Prober asks one prober for an on-demand check (internal/bus:
// jetmon.cmd.prober.<node_id>.check).
type Prober interface {
	// Check runs spec on prober nodeID now. An error means no result: the
	// prober did not answer before ctx's deadline, or refused.
	Check(ctx context.Context, nodeID string, spec uptime.CheckSpec) (uptime.Result, error)
}

// DriftCounter counts legacy projection drift: active sites of r whose
// site_status differs from what their open HTTP events imply
// (internal/sqlstore.DriftCount). It only reads.
type DriftCounter interface {
	DriftCount(ctx context.Context, r uptime.BucketRange) (int, error)
}
