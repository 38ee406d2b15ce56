package obs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc reports whether a component is ready; a non-nil error says why not.
type ReadyFunc func() error

// OpsOpts configures the ops server.
type OpsOpts struct {
	Addr            string
	Gatherer        prometheus.Gatherer
	Logger          *slog.Logger
	ShutdownTimeout time.Duration // default 5s
}

// OpsServer serves /metrics, /healthz, /readyz and /debug/pprof/ on its own
// listener. /healthz answers 200 while the process runs; /readyz answers 200
// only when every registered ReadyFunc passes.
type OpsServer struct {
	opts   OpsOpts
	checks atomic.Pointer[[]namedCheck]
	ln     net.Listener
}

type namedCheck struct {
	name  string
	check ReadyFunc
}

// NewOpsServer validates opts; it does no I/O.
func NewOpsServer(opts OpsOpts) (*OpsServer, error) {
	if opts.Addr == "" {
		return nil, errors.New("ops server: address is required")
	}
	if opts.Gatherer == nil {
		return nil, errors.New("ops server: gatherer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	s := &OpsServer{opts: opts}
	s.checks.Store(&[]namedCheck{})
	return s, nil
}

// AddReadyCheck registers a readiness condition; safe before or during Run.
func (s *OpsServer) AddReadyCheck(name string, check ReadyFunc) {
	for {
		old := s.checks.Load()
		next := append(append([]namedCheck{}, *old...), namedCheck{name, check})
		if s.checks.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Listen binds the address so startup fails fast on a taken port. Run calls
// it when it has not been called.
func (s *OpsServer) Listen(ctx context.Context) error {
	if s.ln != nil {
		return nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("ops server listen %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address (after Listen).
func (s *OpsServer) Addr() string {
	if s.ln == nil {
		return s.opts.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx is done, then shuts down within ShutdownTimeout.
func (s *OpsServer) Run(ctx context.Context) error {
	if err := s.Listen(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	s.opts.Logger.Info("ops server listening", "addr", s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("ops server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("ops server shutdown: %w", err)
	}
	return nil
}

func (s *OpsServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func (s *OpsServer) serveReady(w http.ResponseWriter, _ *http.Request) {
	for _, c := range *s.checks.Load() {
		if err := c.check(); err != nil {
			http.Error(w, fmt.Sprintf("not ready: %s: %v", c.name, err), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = fmt.Fprintln(w, "ready")
}
