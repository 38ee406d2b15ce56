package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Defaults of the optional Opts fields.
const (
	DefaultShutdownTimeout      = 5 * time.Second
	DefaultSiteSyncInterval     = 2 * time.Second
	DefaultSiteFullSync         = 15 * time.Minute
	DefaultHistorySuccessSample = time.Hour
	DefaultIngestBatch          = 1000
)

// Decider is the seam where incident decisions plug into result ingestion.
// The Incidents issue fills it: it will turn each batch's results into
// incident writes that join the batch's ingest transaction. Until then the
// default does nothing.
type Decider interface {
	// Decide sees every new result of a batch, in stream order, once, before
	// the batch commits. An error delays the batch: Decide is called again
	// after a backoff, and nothing is acked meanwhile.
	Decide(ctx context.Context, results []uptime.ProbeResult) error
}

// nopDecider is the default Decider: no incident decisions yet.
type nopDecider struct{}

func (nopDecider) Decide(context.Context, []uptime.ProbeResult) error { return nil }

// Opts configures the coordinator role. Every interface field is required
// except Decider; durations and sizes default when zero.
type Opts struct {
	NodeID          string
	Region          string
	Logger          *slog.Logger          // default: discard
	Registerer      prometheus.Registerer // required
	ShutdownTimeout time.Duration         // bounds the resign on shutdown; default 5s

	Elector     Elector       // the leader lease
	Fence       Fence         // the MySQL fencing row
	Directory   Directory     // live nodes, for assignment and the nodes gauge
	Assignments Assignments   // KV JETMON_ASSIGNMENTS
	SiteMirror  SiteMirror    // KV JETMON_SITES
	SiteSource  SiteSource    // jetpack_monitor_sites
	Results     ResultSource  // the durable consumer on JETMON_RESULTS
	Ingest      IngestStore   // commits result batches
	Commands    CommandServer // jetmon.cmd.coordinator.<verb> while leading

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
	// Decider receives every batch's results; default: a no-op.
	Decider Decider
}

// Coordinator is the coordinator role: leadership, assignment, site sync,
// result ingestion, and (later) the single fenced writer of incident state.
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
	}
	for _, r := range required {
		if r.missing {
			return fmt.Errorf("%s is required", r.name)
		}
	}
	switch {
	case o.RolloutRange.Min < 0 || o.RolloutRange.Min > o.RolloutRange.Max:
		return fmt.Errorf("rollout range %d..%d: need 0 <= min <= max", o.RolloutRange.Min, o.RolloutRange.Max)
	case o.ShutdownTimeout < 0, o.SiteSyncInterval < 0, o.SiteFullSync < 0, o.HistorySuccessSample < 0:
		return errors.New("durations must not be negative")
	case o.IngestBatch < 0:
		return errors.New("ingest batch must not be negative")
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
	if o.Decider == nil {
		o.Decider = nopDecider{}
	}
}
