package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the API server.
type Opts struct {
	Addr            string
	Version         string
	Logger          *slog.Logger
	Registerer      prometheus.Registerer
	ShutdownTimeout time.Duration // default 5s
}

// Server is the API's HTTP server.
type Server struct {
	opts     Opts
	requests *prometheus.CounterVec
	ln       net.Listener
}

// New validates opts; it does no I/O.
func New(opts Opts) (*Server, error) {
	if opts.Addr == "" {
		return nil, errors.New("api: address is required")
	}
	if opts.Registerer == nil {
		return nil, errors.New("api: registerer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "jetmon_api_requests_total",
		Help: "API requests by route pattern and status code.",
	}, []string{"route", "code"})
	if err := opts.Registerer.Register(requests); err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	return &Server{opts: opts, requests: requests}, nil
}

// Listen binds the address so a taken port fails startup. Run calls it when
// it has not been called.
func (s *Server) Listen(ctx context.Context) error {
	if s.ln != nil {
		return nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("api listen %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address after Listen.
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.opts.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx is done, then drains within ShutdownTimeout.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	s.opts.Logger.Info("api listening", "component", "api", "addr", s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("api serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("api shutdown: %w", err)
	}
	return nil
}

// Handler returns the router with every route of the route table mounted.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer, s.countRequests)
	for _, rt := range s.routes() {
		r.Method(rt.method, rt.pattern, rt.handler)
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
	})
	return r
}

func (s *Server) countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, fmt.Sprint(ww.Status())).Inc()
	})
}
