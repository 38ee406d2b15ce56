package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Defaults of the optional Opts fields.
const (
	DefaultShutdownTimeout      = 5 * time.Second
	DefaultSiteSyncInterval     = 2 * time.Second
	DefaultSiteFullSync         = 15 * time.Minute
	DefaultHistorySuccessSample = time.Hour
	DefaultIngestBatch          = 1000
	DefaultCheckTimeout         = 10 * time.Second // NET_COMMS_TIMEOUT
	DefaultVerifyWorkers        = 64
	DefaultDriftInterval        = time.Minute
)

// Opts configures the coordinator role. Every interface field is required
// but Events; durations and sizes default when zero.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger          // default: discard
	Registerer      prometheus.Registerer // required
	ShutdownTimeout time.Duration         // bounds the resign on shutdown; default 5s

	Elector     Elector             // the leader lease
	Fence       Fence               // the MySQL fencing row
	Directory   Directory           // live nodes, for assignment and the nodes gauge
	Assignments Assignments         // KV JETMON_ASSIGNMENTS
	SiteMirror  SiteMirror          // KV JETMON_SITES
	SiteSource  SiteSource          // jetpack_monitor_sites
	Results     ResultSource        // the durable consumer on JETMON_RESULTS
	Ingest      IngestStore         // commits result batches
	Commands    CommandServer       // jetmon.cmd.coordinator.<verb> while leading
	Verifier    Verifier            // asks verifliers of other regions to confirm
	Incidents   IncidentStore       // incident writes outside batches; open events
	Outbox      Outbox              // jetmon_outbox, drained by the relay
	Publisher   TransitionPublisher // JETMON_DELIVERY
	Prober      Prober              // on-demand checks (site.trigger)
	Drift       DriftCounter        // the jetmon_projection_drift gauge
	// Events reads events by id for event.close with an event_id (the
	// REST API's close); without it such a close answers unavailable.
	Events EventReader

	// RolloutRange is the buckets the mesh checks (ROLLOUT_BUCKET_MIN..MAX).
	RolloutRange uptime.BucketRange
	// SiteSyncInterval is how often the incremental site sync runs; default 2s.
	SiteSyncInterval time.Duration
	// SiteFullSync is how often the full site sync runs; default 15m.
	SiteFullSync time.Duration
	// HistorySuccessSample is the window in which one success per site is
	// kept as a raw history row; default 1h.
	HistorySuccessSample time.Duration
	// IngestBatch is the most results fetched and committed at once; it must
	// equal the consumer's MaxAckPending. Default 1000.
	IngestBatch int
	// Now is the clock of time-dependent logic; default time.Now.
	Now func() time.Time
	// Policy is the incident policy (NUM_OF_CHECKS, PEER_OFFLINE_LIMIT,
	// ALERT_COOLDOWN_MINUTES). Zero fields mean what incident.Policy
	// documents: a zero AlertCooldown disables the cooldown.
	// HaveVerifiers is ignored: it holds for a result when a veriflier
	// region other than the result's is alive.
	Policy incident.Policy
	// CheckTimeout is a site's check timeout when its spec sets none
	// (NET_COMMS_TIMEOUT); a confirmation waits for votes this long plus
	// 5 s. Default 10s.
	CheckTimeout time.Duration
	// VerifyWorkers is how many confirmations are asked at once; default 64.
	VerifyWorkers int
	// DriftInterval is how often the projection drift gauge is computed;
	// default 1m.
	DriftInterval time.Duration
}

// Coordinator is the coordinator role: leadership, assignment, site sync,
// result ingestion, confirmation, and the single fenced writer of incident
// state with its outbox relay.
type Coordinator struct {
	opts Opts
	log  *slog.Logger
	m    *metrics
}

// New validates opts and registers the role's metrics; it does no I/O.
func New(opts Opts) (*Coordinator, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	opts.setDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("coordinator: register metrics: %w", err)
	}
	return &Coordinator{
		opts: opts,
		log:  opts.Logger.With("component", "coordinator"),
		m:    m,
	}, nil
}

func (o Opts) validate() error {
	required := []struct {
		missing bool
		name    string
	}{
		{o.NodeID == "", "node id"},
		{o.Registerer == nil, "registerer"},
		{o.Elector == nil, "elector"},
		{o.Fence == nil, "fence"},
		{o.Directory == nil, "directory"},
		{o.Assignments == nil, "assignments"},
		{o.SiteMirror == nil, "site mirror"},
		{o.SiteSource == nil, "site source"},
		{o.Results == nil, "results"},
		{o.Ingest == nil, "ingest store"},
		{o.Commands == nil, "command server"},
		{o.Verifier == nil, "verifier"},
		{o.Incidents == nil, "incident store"},
		{o.Outbox == nil, "outbox"},
		{o.Publisher == nil, "transition publisher"},
		{o.Prober == nil, "prober client"},
		{o.Drift == nil, "drift counter"},
	}
	for _, r := range required {
		if r.missing {
			return fmt.Errorf("%s is required", r.name)
		}
	}
	switch {
	case o.RolloutRange.Min < 0 || o.RolloutRange.Min > o.RolloutRange.Max:
		return fmt.Errorf("rollout range %d..%d: need 0 <= min <= max", o.RolloutRange.Min, o.RolloutRange.Max)
	case o.ShutdownTimeout < 0, o.SiteSyncInterval < 0, o.SiteFullSync < 0, o.HistorySuccessSample < 0,
		o.CheckTimeout < 0, o.DriftInterval < 0:
		return errors.New("durations must not be negative")
	case o.IngestBatch < 0, o.VerifyWorkers < 0:
		return errors.New("ingest batch and verify workers must not be negative")
	}
	return nil
}

func (o *Opts) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.SiteSyncInterval == 0 {
		o.SiteSyncInterval = DefaultSiteSyncInterval
	}
	if o.SiteFullSync == 0 {
		o.SiteFullSync = DefaultSiteFullSync
	}
	if o.HistorySuccessSample == 0 {
		o.HistorySuccessSample = DefaultHistorySuccessSample
	}
	if o.IngestBatch == 0 {
		o.IngestBatch = DefaultIngestBatch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckTimeout == 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.VerifyWorkers == 0 {
		o.VerifyWorkers = DefaultVerifyWorkers
	}
	if o.DriftInterval == 0 {
		o.DriftInterval = DefaultDriftInterval
	}
}
