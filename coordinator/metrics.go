package coordinator

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Site sync kinds, the label values of the site sync metrics.
const (
	syncFull        = "full"
	syncIncremental = "incremental"
)

// metrics are the coordinator's Prometheus series. None has a per-site label.
type metrics struct {
	leader prometheus.Gauge
	epoch  prometheus.Gauge
	terms  prometheus.Counter

	nodes         *nodeGauge
	unassigned    prometheus.Gauge
	assignChanges prometheus.Counter

	sitesMirrored  prometheus.Gauge
	siteSync       *prometheus.HistogramVec
	siteSyncErrors *prometheus.CounterVec

	processed    prometheus.Counter
	duplicates   prometheus.Counter
	commit       prometheus.Histogram
	commitErrors prometheus.Counter
	checkAge     prometheus.Histogram

	detection       *prometheus.HistogramVec
	verifications   *prometheus.CounterVec
	votes           *prometheus.CounterVec
	openEvents      *prometheus.GaugeVec
	outboxPending   prometheus.Gauge
	outboxPublished prometheus.Counter
	drift           prometheus.Gauge
}

// Detection stages, the label values of jetmon_incident_detection_seconds.
const (
	stageSeemsDown  = "first_failure_to_seems_down"
	stageDown       = "seems_down_to_down"
	stageFalseAlarm = "seems_down_to_false_alarm"
	stageCleared    = "seems_down_to_probe_cleared"
)

// openStates are the states jetmon_open_events always reports.
func openStates() []uptime.State {
	return []uptime.State{uptime.StateSeemsDown, uptime.StateDown, uptime.StateWarning, uptime.StateDegraded}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_coordinator_leader", Help: "1 while this coordinator leads the mesh.",
		}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_coordinator_epoch", Help: "Epoch (lease revision) of the latest term this coordinator led.",
		}),
		terms: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_coordinator_terms_total", Help: "Terms of leadership this coordinator started.",
		}),
		nodes: &nodeGauge{vec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jetmon_mesh_nodes", Help: "Live mesh nodes by role and region, as the leader sees them.",
		}, []string{"role", "region"})},
		unassigned: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_mesh_unassigned_buckets", Help: "Buckets of the rollout range without a prober (leader only).",
		}),
		assignChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_mesh_assignment_changes_total", Help: "Assignment keys written or deleted by this coordinator.",
		}),
		sitesMirrored: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_coordinator_sites_mirrored", Help: "Sites this leader mirrors into KV JETMON_SITES.",
		}),
		siteSync: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jetmon_coordinator_site_sync_seconds", Help: "Duration of site syncs by kind (full, incremental).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"kind"}),
		siteSyncErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_coordinator_site_sync_errors_total", Help: "Site syncs that failed, by kind.",
		}, []string{"kind"}),
		processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_coordinator_results_processed_total", Help: "Results committed by this coordinator.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_coordinator_results_duplicate_total", Help: "Redelivered results skipped (at or below the watermark).",
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jetmon_coordinator_batch_commit_seconds", Help: "Duration of successful ingest batch commits.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_coordinator_batch_commit_errors_total", Help: "Ingest batch commits that failed and were retried or fenced.",
		}),
		checkAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jetmon_coordinator_check_age_seconds", Help: "How late each ingested check ran against its due time.",
			Buckets: []float64{.1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 900},
		}),
	}
	m.addIncidentMetrics()
	for _, c := range []prometheus.Collector{
		m.leader, m.epoch, m.terms, m.nodes.vec, m.unassigned, m.assignChanges,
		m.sitesMirrored, m.siteSync, m.siteSyncErrors,
		m.processed, m.duplicates, m.commit, m.commitErrors, m.checkAge,
		m.detection, m.verifications, m.votes, m.openEvents, m.outboxPending, m.outboxPublished, m.drift,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, kind := range []string{syncFull, syncIncremental} {
		m.siteSync.WithLabelValues(kind)
		m.siteSyncErrors.WithLabelValues(kind)
	}
	for _, stage := range []string{stageSeemsDown, stageDown, stageFalseAlarm, stageCleared} {
		m.detection.WithLabelValues(stage)
	}
	for _, outcome := range []string{outcomeConfirmed, outcomeFalseAlarm, outcomeNoResponders} {
		m.verifications.WithLabelValues(outcome)
	}
	return m, nil
}

// addIncidentMetrics creates the series of incident decisions, the outbox
// and the projection drift.
func (m *metrics) addIncidentMetrics() {
	m.detection = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jetmon_incident_detection_seconds",
		Help:    "Time between incident steps decided this term: first failure to Seems Down, and Seems Down to Down, false alarm or probe cleared.",
		Buckets: []float64{.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800},
	}, []string{"stage"})
	m.verifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetmon_verifications_total", Help: "Confirmations decided, by outcome (confirmed, false_alarm, no_responders).",
	}, []string{"outcome"})
	m.votes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetmon_verification_votes_total", Help: "Veriflier votes received, by region and whether the site was up from there.",
	}, []string{"region", "up"})
	m.openEvents = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jetmon_open_events", Help: "Open incident events by state, as the leader holds them.",
	}, []string{"state"})
	m.outboxPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_outbox_pending", Help: "Outbox rows the relay last saw waiting to be published (at most one page of 500).",
	})
	m.outboxPublished = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jetmon_outbox_published_total", Help: "Transitions the outbox relay published and deleted.",
	})
	m.drift = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "jetmon_projection_drift", Help: "Active sites of the rollout range whose legacy site_status differs from their open HTTP events.",
	})
}

// termStarted marks this coordinator as the leader of epoch.
func (m *metrics) termStarted(epoch uint64) {
	m.leader.Set(1)
	m.epoch.Set(float64(epoch))
	m.terms.Inc()
	m.resetOpen()
}

// termEnded clears the series only the leader reports, so a standby exports
// no stale view of the mesh.
func (m *metrics) termEnded() {
	m.leader.Set(0)
	m.nodes.reset()
	m.unassigned.Set(0)
	m.sitesMirrored.Set(0)
	m.resetOpen()
	m.outboxPending.Set(0)
	m.drift.Set(0)
}

// resetOpen reports no open events (a new term counts its own).
func (m *metrics) resetOpen() {
	m.openEvents.Reset()
	for _, st := range openStates() {
		m.openEvents.WithLabelValues(string(st))
	}
}

// countOpen adds delta for each event of open to jetmon_open_events.
func (m *metrics) countOpen(open map[string]uptime.Event, delta float64) {
	for _, ev := range open {
		m.openEvents.WithLabelValues(string(ev.State)).Add(delta)
	}
}

// detection is one detection timing to observe.
type detection struct {
	stage   string
	seconds float64
}

// detectionOf is the timing a change completes, if any: the first failure
// (the event's start) to Seems Down on an HTTP open; seemsDownAt (when this
// term opened the Seems Down; zero: unknown) to Down, a false alarm or a
// probe_cleared close.
func detectionOf(ch uptime.Change, seemsDownAt time.Time) []detection {
	if ch.Event.CheckType != uptime.CheckTypeHTTP {
		return nil
	}
	at := ch.Transition.ChangedAt
	if ch.Op == uptime.OpOpen {
		return []detection{{stageSeemsDown, max(at.Sub(ch.Event.StartedAt).Seconds(), 0)}}
	}
	if seemsDownAt.IsZero() || ch.Transition.StateBefore != uptime.StateSeemsDown {
		return nil
	}
	var stage string
	switch ch.Transition.Reason {
	case uptime.ReasonVerifierConfirmed:
		stage = stageDown
	case uptime.ReasonFalseAlarm:
		stage = stageFalseAlarm
	case uptime.ReasonProbeCleared:
		stage = stageCleared
	default:
		return nil
	}
	return []detection{{stage, max(at.Sub(seemsDownAt).Seconds(), 0)}}
}

// nodeGauge is jetmon_mesh_nodes. A region seen during a term stays exported
// at 0 after its last node leaves, so "a region without probers" can alert.
type nodeGauge struct {
	vec *prometheus.GaugeVec

	mu      sync.Mutex
	regions map[string]map[string]bool // role -> regions seen this term
}

// set records the live nodes of role.
func (g *nodeGauge) set(role string, nodes []uptime.Node) {
	counts := make(map[string]int)
	for _, n := range nodes {
		counts[n.Region]++
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.regions == nil {
		g.regions = make(map[string]map[string]bool)
	}
	seen := g.regions[role]
	if seen == nil {
		seen = make(map[string]bool)
		g.regions[role] = seen
	}
	for region := range counts {
		seen[region] = true
	}
	for region := range seen {
		g.vec.WithLabelValues(role, region).Set(float64(counts[region]))
	}
}

func (g *nodeGauge) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.regions = nil
	g.vec.Reset()
}
