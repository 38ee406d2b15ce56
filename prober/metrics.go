package prober

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the prober's Prometheus series. None has a per-site label.
type metrics struct {
	checkSuccess  prometheus.Counter
	checkFailure  prometheus.Counter
	checkAge      prometheus.Histogram
	missedSlots   prometheus.Counter
	inFlight      prometheus.Gauge
	sites         prometheus.Gauge
	buckets       prometheus.Gauge
	published     prometheus.Counter
	publishErrors prometheus.Counter
	dropped       prometheus.Counter
}

// newMetrics registers the prober's series on reg. lag and buffered are
// read at scrape time: the oldest overdue check's lateness in seconds and
// the result queue's depth.
func newMetrics(reg prometheus.Registerer, lag, buffered func() float64) (*metrics, error) {
	checks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetmon_prober_checks_total",
		Help: "Scheduled checks run, by outcome (success or failure as uptime.Result.IsFailure).",
	}, []string{"outcome"})
	m := &metrics{
		checkSuccess: checks.WithLabelValues("success"),
		checkFailure: checks.WithLabelValues("failure"),
		checkAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jetmon_prober_check_age_seconds",
			Help: "How late each scheduled check started against its due time.",
			// From on time (milliseconds late) to a whole interval or more behind.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300},
		}),
		missedSlots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_prober_missed_slots_total",
			Help: "Due times merged into a later one because the site's previous check ran more than an interval late.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_prober_checks_in_flight",
			Help: "Scheduled checks running now (at most MAX_CONCURRENT_CHECKS).",
		}),
		sites: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_prober_sites",
			Help: "Sites held and scheduled by this prober.",
		}),
		buckets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_prober_buckets",
			Help: "Buckets of the assignment this prober currently watches.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_prober_results_published_total",
			Help: "Results stored on JETMON_RESULTS.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_prober_publish_errors_total",
			Help: "Failed publish attempts (each is retried with backoff).",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_prober_results_dropped_total",
			Help: "Results dropped unpublished: the oldest when the result buffer was full, and what was left at shutdown.",
		}),
	}
	lagGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jetmon_prober_schedule_lag_seconds",
		Help: "How long the oldest overdue check has been waiting for a free slot (0 when none is overdue).",
	}, lag)
	bufGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jetmon_prober_result_buffer",
		Help: "Results waiting to be published (at most RESULT_BUFFER).",
	}, buffered)
	for _, c := range []prometheus.Collector{
		checks, m.checkAge, m.missedSlots, m.inFlight, m.sites, m.buckets,
		m.published, m.publishErrors, m.dropped, lagGauge, bufGauge,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
