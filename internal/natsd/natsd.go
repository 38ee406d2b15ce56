package natsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Sentinel errors.
var (
	// ErrFatal wraps a fatal nats-server error (a port in use, an unusable
	// store directory, an invalid cluster setup) returned by Run.
	ErrFatal = errors.New("nats-server fatal error")
	// ErrNotReady is returned by accessors called before the server is
	// ready.
	ErrNotReady = errors.New("nats server not ready")
	// ErrStopped is returned by WaitReady when Run ended without the server
	// ever becoming ready and without an error of its own.
	ErrStopped = errors.New("nats server stopped")
	// ErrAlreadyRun is returned by a second call of Run: a Server runs
	// once; build a new one with New to start again.
	ErrAlreadyRun = errors.New("nats server already run")
)

// readyPoll is how long each readiness check waits before Run looks at its
// context and at fatal errors again.
const readyPoll = 50 * time.Millisecond

// Server is an embedded nats-server with JetStream. Build it with New and
// start it with Run; the accessors work once Ready is closed.
type Server struct {
	opts    Opts
	started atomic.Bool
	ready   chan struct{} // closed once ns accepts connections
	done    chan struct{} // closed when Run returns
	ns      *server.Server
	runErr  error // written before done is closed
}

// New validates opts and returns a Server that is not running. It does no
// I/O: the configuration file is read by Run.
func New(opts Opts) (*Server, error) {
	o, err := opts.validate()
	if err != nil {
		return nil, fmt.Errorf("natsd options: %w", err)
	}
	return &Server{
		opts:  o,
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

// Run starts the server, waits until it accepts connections (at most
// Opts.ReadyTimeout), closes Ready, and blocks until ctx is done or the
// server reports a fatal error. It then shuts the server down, waiting at
// most Opts.ShutdownTimeout. It returns nil after a shutdown caused by ctx
// (even one during startup), an error wrapping ErrFatal after a fatal
// server error, and an error when the options or configuration file are
// invalid or the server is not ready in time.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	err := s.run(ctx)
	s.runErr = err
	close(s.done)
	return err
}

func (s *Server) run(ctx context.Context) error {
	so, err := s.opts.serverOptions()
	if err != nil {
		return err
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return fmt.Errorf("new nats server: %w", err)
	}
	fatal := make(chan string, 1)
	log := s.opts.Logger.With("component", "natsd")
	ns.SetLoggerV2(serverLogger{log: log, fatal: func(msg string) {
		select {
		case fatal <- msg:
		default: // keep the first fatal error
		}
	}}, so.Debug || log.Enabled(ctx, slog.LevelDebug), so.Trace || log.Enabled(ctx, LevelTrace), false)

	ns.Start()
	if err := s.waitStarted(ctx, ns, fatal); err != nil {
		stopErr := shutdown(ns, s.opts.ShutdownTimeout)
		if ctx.Err() != nil && !errors.Is(err, ErrFatal) {
			return stopErr // cancelled while starting: a normal stop
		}
		return errors.Join(err, stopErr)
	}
	s.ns = ns
	close(s.ready)

	select {
	case <-ctx.Done():
		return shutdown(ns, s.opts.ShutdownTimeout)
	case msg := <-fatal:
		return errors.Join(fmt.Errorf("%w: %s", ErrFatal, msg), shutdown(ns, s.opts.ShutdownTimeout))
	}
}

// waitStarted polls readiness so that a cancelled ctx or a fatal error ends
// the wait at once instead of after the whole ReadyTimeout.
func (s *Server) waitStarted(ctx context.Context, ns *server.Server, fatal <-chan string) error {
	deadline := time.Now().Add(s.opts.ReadyTimeout)
	for {
		select {
		case msg := <-fatal:
			return fmt.Errorf("start: %w: %s", ErrFatal, msg)
		case <-ctx.Done():
			return fmt.Errorf("start: %w", context.Cause(ctx))
		default:
		}
		if ns.ReadyForConnections(readyPoll) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("start: not ready for connections after %s", s.opts.ReadyTimeout)
		}
	}
}

// shutdown stops ns and waits for it, at most timeout. Shutdown steps down
// the raft leaders the node holds, so a cluster peer takes over at once.
func shutdown(ns *server.Server, timeout time.Duration) error {
	stopped := make(chan struct{})
	go func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		close(stopped)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-stopped:
		return nil
	case <-timer.C:
		return fmt.Errorf("shutdown: not stopped after %s", timeout)
	}
}

// Ready returns a channel closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// WaitReady blocks until the server is ready (nil), Run has ended (Run's
// error, or ErrStopped), or ctx is done (ctx's error).
func (s *Server) WaitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-s.done:
		select {
		case <-s.ready: // ready first, then stopped: it was ready
			return nil
		default:
		}
		if s.runErr != nil {
			return s.runErr
		}
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("wait for nats server: %w", context.Cause(ctx))
	}
}

// running returns the server once it is ready, else nil.
func (s *Server) running() *server.Server {
	select {
	case <-s.ready:
		return s.ns
	default:
		return nil
	}
}

// ClientURL returns the URL clients dial, with an unspecified listen
// address (0.0.0.0, ::) replaced by the loopback address. It is empty
// before the server is ready and with Opts.NoListen.
func (s *Server) ClientURL() string {
	ns := s.running()
	if ns == nil || s.opts.NoListen {
		return ""
	}
	u, err := url.Parse(ns.ClientURL())
	if err != nil {
		return ns.ClientURL()
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// InProcessConn returns a new in-process client connection to the server
// (one end of a net.Pipe). With it *Server satisfies
// nats.InProcessConnProvider, so nats.InProcessServer(s) works.
func (s *Server) InProcessConn() (net.Conn, error) {
	ns := s.running()
	if ns == nil {
		return nil, ErrNotReady
	}
	conn, err := ns.InProcessConn()
	if err != nil {
		return nil, fmt.Errorf("in-process conn: %w", err)
	}
	return conn, nil
}

// Connect opens an in-process client connection with the given options.
// In-process connections never fail over to other servers, so use them
// only for clients living in the server's own process.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	if s.running() == nil {
		return nil, ErrNotReady
	}
	opts = append(opts, nats.InProcessServer(s))
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect in-process: %w", err)
	}
	return nc, nil
}

// NATSServer returns the underlying nats-server once ready (else nil), for
// monitoring (Varz, Jsz, Healthz) and test inspection. Do not Shutdown it
// directly: cancel Run's context.
func (s *Server) NATSServer() *server.Server { return s.running() }
