package jetmoncmd

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// BenchmarkDeliverWebhooks (issue 6 item 10) measures the delivery path
// end to end on loopback: transitions published as the outbox relay
// publishes them, fanned out by one deliverer (DELIVERY_WORKERS 16) to two
// webhooks each, dispatched and received by a local httptest receiver.
//   - burst: each iteration publishes 50 transitions (100 deliveries) at
//     once and waits until all are received: deliveries/s is the
//     sustained rate.
//   - single: each iteration publishes one transition and waits for both
//     deliveries: commit-to-received latency of an idle deliverer (p50,
//     p99; the goal is p99 <= 250 ms).
func BenchmarkDeliverWebhooks(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchDeliver(b, 50) })
	b.Run("single", func(b *testing.B) { benchDeliver(b, 1) })
}

func benchDeliver(b *testing.B, perIteration int) {
	w := newDlvWorld(b, map[string]string{"DELIVERY_WORKERS": "16", "DELIVERY_TIMEOUT_SEC": "10"})
	w.logger = slog.New(slog.DiscardHandler)
	r := newHookReceiver(b)
	w.addWebhook(r.URL())
	w.addWebhook(r.URL())
	w.startDeliverer("d1")
	next := int64(1)
	publish := func(n int) {
		for range n {
			w.publish(dlvTransition(next, next%100+1, uptime.ReasonOpened, ""))
			next++
		}
	}
	publish(1) // warm up: consumers bound, connections open
	waitFor(b, stepBudget, "warm-up delivered", func() error { return received(r, 2) })
	warm := r.count()
	start := time.Now()
	iterations := 0
	for b.Loop() {
		publish(perIteration)
		want := warm + 2*perIteration*(iterations+1)
		waitFor(b, time.Minute, "iteration delivered", func() error { return received(r, want) })
		iterations++
	}
	elapsed := time.Since(start)
	reqs := r.got()[warm:]
	lat := make([]float64, 0, len(reqs))
	for _, q := range reqs {
		if !q.validSig {
			b.Fatalf("delivery %s: invalid signature", q.delivery)
		}
		lat = append(lat, float64(q.at.Sub(q.occurred).Microseconds())/1000)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(reqs))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(quantile(lat, 0.50), "p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "p99-ms")
}

func received(r *hookReceiver, want int) error {
	if n := r.count(); n < want {
		return fmt.Errorf("%d of %d received", n, want)
	}
	return nil
}

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
