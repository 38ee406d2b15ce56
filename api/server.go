package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opts configures the API server. Every port is required except the two
// Pingers: a nil Pinger makes /health answer 503.
type Opts struct {
	Addr            string
	Version         string
	Logger          *slog.Logger          // default: discard
	Registerer      prometheus.Registerer // required
	ShutdownTimeout time.Duration         // default 5s

	Keys          KeyStore
	Idempotency   IdempotencyStore
	Auditor       Auditor
	Sites         SiteStore
	Events        EventStore
	Stats         StatsStore
	Webhooks      WebhookStore
	AlertContacts AlertContactStore
	Deliveries    DeliveryStore
	DeliveryOps   DeliveryOps
	Coordinator   Coordinator
	Mesh          Mesh
	DB            Pinger // the MySQL handle, for /health
	NATS          Pinger // the NATS connection, for /health

	// LegacyStatusProjection is LEGACY_STATUS_PROJECTION_ENABLE: while it
	// is true a site without an open event takes its state from the legacy
	// site_status column, else it is Up.
	LegacyStatusProjection bool
	// BucketTotal is BUCKET_TOTAL: a new site's default bucket is blog_id
	// mod BucketTotal and bucket_no must be below it. 0: default bucket 0,
	// bucket_no checked against the column's range only.
	BucketTotal int
	Now         func() time.Time // default time.Now
	Random      io.Reader        // webhook secrets; default crypto/rand.Reader
	Limits      Limits
}

// Limits bound requests; zero fields take the defaults.
type Limits struct {
	MaxBodyBytes              int64 // default 1 MiB
	DefaultPageSize           int   // default 50
	MaxPageSize               int   // default 200
	DefaultTransitionPageSize int   // default 100
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	if l.MaxPageSize <= 0 {
		l.MaxPageSize = 200
	}
	if l.DefaultPageSize <= 0 {
		l.DefaultPageSize = min(50, l.MaxPageSize)
	}
	if l.DefaultTransitionPageSize <= 0 {
		l.DefaultTransitionPageSize = min(100, l.MaxPageSize)
	}
	l.DefaultPageSize = min(l.DefaultPageSize, l.MaxPageSize)
	l.DefaultTransitionPageSize = min(l.DefaultTransitionPageSize, l.MaxPageSize)
	return l
}

// Server is the API's HTTP server.
type Server struct {
	opts     Opts
	log      *slog.Logger
	metrics  *metrics
	statusOf map[ErrorCode]int
	limiter  *limiter
	touches  *toucher
	table    []route
	handler  http.Handler
	document OpenAPIDocument
	ln       net.Listener
}

// New validates opts and builds the router and the OpenAPI document from
// the route table; it does no I/O.
func New(opts Opts) (*Server, error) {
	if err := validate(&opts); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, statusOf: map[ErrorCode]int{},
		limiter: &limiter{buckets: map[int64]*bucket{}}, touches: &toucher{last: map[int64]time.Time{}}}
	for _, e := range errorTable() {
		if _, dup := s.statusOf[e.code]; dup {
			return nil, fmt.Errorf("api: error code %q listed twice", e.code)
		}
		s.statusOf[e.code] = e.status
	}
	s.table = s.routes()
	h, err := s.mount(s.table)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.handler = h
	if s.document, err = s.openAPIDocument(); err != nil {
		return nil, fmt.Errorf("api: openapi: %w", err)
	}
	if s.metrics, err = newMetrics(opts.Registerer); err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	return s, nil
}

func validate(o *Opts) error {
	ports := []struct {
		name string
		set  bool
	}{
		{"Keys", o.Keys != nil}, {"Idempotency", o.Idempotency != nil}, {"Auditor", o.Auditor != nil},
		{"Sites", o.Sites != nil}, {"Events", o.Events != nil}, {"Stats", o.Stats != nil},
		{"Webhooks", o.Webhooks != nil}, {"AlertContacts", o.AlertContacts != nil},
		{"Deliveries", o.Deliveries != nil}, {"DeliveryOps", o.DeliveryOps != nil},
		{"Coordinator", o.Coordinator != nil}, {"Mesh", o.Mesh != nil}, {"Registerer", o.Registerer != nil},
	}
	var missing []error
	for _, p := range ports {
		if !p.set {
			missing = append(missing, fmt.Errorf("api: %s is required", p.name))
		}
	}
	if o.Addr == "" {
		missing = append(missing, errors.New("api: address is required"))
	}
	if o.BucketTotal < 0 {
		missing = append(missing, errors.New("api: BucketTotal must be >= 0"))
	}
	if len(missing) > 0 {
		return errors.Join(missing...)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Random == nil {
		o.Random = rand.Reader
	}
	o.Limits = o.Limits.withDefaults()
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

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
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 65 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	s.log.Info("api listening", "component", "api", "addr", s.Addr())
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

// Handler is the router with every route of the route table mounted.
func (s *Server) Handler() http.Handler { return s.handler }

// metrics are the API's request metrics.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jetmon_api_requests_total",
			Help: "API requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jetmon_api_request_duration_seconds",
			Help:    "API request duration by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15, 30},
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
