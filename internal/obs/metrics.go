package obs

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Build describes the running binary for the build-info metric.
type Build struct {
	Version string
	Role    string // the subcommand, e.g. "all" or "prober"
}

// NewRegistry returns a fresh registry (never the global one) with the Go
// runtime, process and jetmon_build_info collectors registered.
func NewRegistry(b Build) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "jetmon_build_info",
		Help: "Always 1; labels describe the running binary.",
	}, []string{"version", "goversion", "role"})
	info.WithLabelValues(b.Version, runtime.Version(), b.Role).Set(1)
	reg.MustRegister(info)
	return reg
}
