package deliverer

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Consumer names, the consumer label values (bus.Consumer* names them the
// same).
const (
	ConsumerFanOut  = "fanout"
	ConsumerWebhook = "webhook"
	ConsumerAlert   = "alert"
	ConsumerWPCOM   = "wpcom"
)

// breakerStates are the WPCOM transport's breaker states (gobreaker's
// names).
func breakerStates() []string { return []string{"closed", "half-open", "open"} }

// metrics are the deliverer's series. No label carries a site, a
// destination or a URL.
type metrics struct {
	running     prometheus.Gauge
	pending     *prometheus.GaugeVec
	ackPending  *prometheus.GaugeVec
	redelivered *prometheus.GaugeVec
	attempts    *prometheus.CounterVec
	abandoned   *prometheus.CounterVec
	created     *prometheus.CounterVec
	suppressed  *prometheus.CounterVec
	fanouts     prometheus.Counter
	deadLetters *prometheus.CounterVec
	malformed   *prometheus.CounterVec
	breaker     *prometheus.GaugeVec
	latency     *prometheus.HistogramVec
}

func kinds() []uptime.DeliveryKind {
	return []uptime.DeliveryKind{uptime.DeliveryWebhook, uptime.DeliveryAlert, uptime.DeliveryWPCOM}
}

func consumers() []string {
	return []string{ConsumerFanOut, ConsumerWebhook, ConsumerAlert, ConsumerWPCOM}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "jetmon_deliverer_running", Help: "1 while the deliverer role runs in this process.",
		}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jetmon_delivery_queue_pending", Help: "Messages of a delivery consumer not yet delivered to any deliverer (consumer info).",
		}, []string{"consumer"}),
		ackPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jetmon_delivery_queue_ack_pending", Help: "Messages of a delivery consumer in flight or waiting for a delayed retry (consumer info).",
		}, []string{"consumer"}),
		redelivered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jetmon_delivery_queue_redelivered", Help: "Unsettled messages of a delivery consumer delivered more than once (consumer info).",
		}, []string{"consumer"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_attempts_total", Help: "Delivery attempts finished by this deliverer, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_abandoned_total", Help: "Deliveries this deliverer gave up on, by kind.",
		}, []string{"kind"}),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_created_total", Help: "Delivery rows created by this deliverer's fan-outs, by kind.",
		}, []string{"kind"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_suppressed_total", Help: "Notifications not created because the transition's decision suppressed them (audit rows written), by kind.",
		}, []string{"kind"}),
		fanouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "jetmon_delivery_fanouts_total", Help: "Transitions this deliverer fanned out (redeliveries included).",
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_dead_letters_total", Help: "Dead letters recorded in jetmon_dead_letters, by consumer.",
		}, []string{"consumer"}),
		malformed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_delivery_malformed_total", Help: "Messages terminated because they could not be decoded, by consumer.",
		}, []string{"consumer"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jetmon_delivery_wpcom_breaker_state", Help: "1 for the WPCOM circuit breaker's current state (closed, half-open, open) in this process.",
		}, []string{"state"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jetmon_delivery_latency_seconds",
			Help:    "Time from the transition's commit (its JetStream timestamp) to its delivery, by kind.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600},
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.running, m.pending, m.ackPending, m.redelivered, m.attempts,
		m.abandoned, m.created, m.suppressed, m.fanouts, m.deadLetters, m.malformed, m.breaker, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.initSeries()
	return m, nil
}

// initSeries exports every label value at zero, so alerts and rates see
// the series before the first event.
func (m *metrics) initSeries() {
	for _, k := range kinds() {
		kind := string(k)
		for _, o := range []string{OutcomeDelivered, OutcomeRetry, OutcomeAbandoned, OutcomeRateLimited, OutcomeDeferred} {
			m.attempts.WithLabelValues(kind, o)
		}
		m.abandoned.WithLabelValues(kind)
		m.created.WithLabelValues(kind)
		m.suppressed.WithLabelValues(kind)
		m.latency.WithLabelValues(kind)
	}
	for _, c := range consumers() {
		m.deadLetters.WithLabelValues(c)
		m.malformed.WithLabelValues(c)
	}
}

// setBacklog exports the consumers' backlogs.
func (m *metrics) setBacklog(bs []QueueBacklog) {
	for _, b := range bs {
		m.pending.WithLabelValues(b.Consumer).Set(float64(b.Pending))
		m.ackPending.WithLabelValues(b.Consumer).Set(float64(b.AckPending))
		m.redelivered.WithLabelValues(b.Consumer).Set(float64(b.Redelivered))
	}
}

// setBreaker exports the WPCOM breaker's state.
func (m *metrics) setBreaker(state string) {
	for _, s := range breakerStates() {
		v := 0.0
		if s == state {
			v = 1
		}
		m.breaker.WithLabelValues(s).Set(v)
	}
}
