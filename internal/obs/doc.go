// Package obs is the process plumbing every Jetmon Mesh binary shares: the
// slog logger (text or JSON), one Prometheus registry per process with the Go,
// process and build-info collectors, and the ops HTTP server that serves
// /metrics, /healthz, /readyz and pprof.
//
// It imports no project package and no domain code.
package obs
