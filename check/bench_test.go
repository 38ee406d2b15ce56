package check_test

import (
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// BenchmarkCheck runs checks against a local target, one connection each.
func BenchmarkCheck(b *testing.B) {
	benchmarks := map[string]func(b *testing.B) uptime.CheckSpec{
		"http": func(b *testing.B) uptime.CheckSpec {
			return uptime.CheckSpec{URL: benchServer(b, okHandler()).URL}
		},
		"http keyword": func(b *testing.B) uptime.CheckSpec {
			return uptime.CheckSpec{URL: benchServer(b, okHandler()).URL, Keyword: "jetmon", ForbiddenKeywords: []string{"casino"}}
		},
	}
	for name, target := range benchmarks {
		b.Run(name, func(b *testing.B) {
			spec := target(b)
			c := newChecker(b, check.Opts{Timeout: 5 * time.Second})
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if res := c.Check(b.Context(), spec); !res.Success {
					b.Fatalf("check failed: %+v", res)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "checks/s")
		})
	}
}
