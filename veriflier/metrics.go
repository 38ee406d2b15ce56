package veriflier

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the veriflier's Prometheus series. None has a per-site label.
type metrics struct {
	running      prometheus.Gauge
	up           prometheus.Counter
	down         prometheus.Counter
	checkSeconds prometheus.Histogram
}

// newMetrics registers the veriflier's series on reg.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetmon_veriflier_requests_total",
		Help: "Vote requests answered, by the vote (up or down, as !uptime.Result.IsFailure).",
	}, []string{"outcome"})
	m := &metrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_veriflier_running",
			Help: "1 while the veriflier role runs in this process.",
		}),
		up:   requests.WithLabelValues("up"),
		down: requests.WithLabelValues("down"),
		checkSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jetmon_veriflier_check_seconds",
			Help: "How long each answered vote's check took.",
			// From a fast local answer to a site timing out (NET_COMMS_TIMEOUT and beyond).
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60},
		}),
	}
	for _, c := range []prometheus.Collector{m.running, requests, m.checkSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
