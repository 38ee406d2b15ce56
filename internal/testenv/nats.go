package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

// NATSLogEnv names the environment variable that sets the level of the
// embedded servers' log lines written to t.Logf: "off", "error", "warn"
// (the default), "info", "debug" or "trace".
const NATSLogEnv = "JETMON_TEST_NATS_LOG"

// natsStartTimeout bounds the start of one embedded server in tests.
const natsStartTimeout = 15 * time.Second

// NATS is a single-node embedded NATS server with JetStream, owned by one
// test.
type NATS struct {
	srv *natsd.Server
}

// StartNATS starts a single-node JetStream server for t: store dir
// t.TempDir(), a random loopback client port (so other processes can dial
// URL), server logs to t.Logf while the test runs (see NATSLogEnv). When the
// test ends the connections made by Conn are closed, then the server is shut
// down and waited for.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	srv, err := natsd.New(natsd.Opts{
		StoreDir:   t.TempDir(),
		ServerName: "testenv",
		Logger:     natsTestLogger(t),
	})
	if err != nil {
		t.Fatalf("testenv: nats options: %v", err)
	}
	stop := runNATS(srv)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("testenv: stop nats: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), natsStartTimeout)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatalf("testenv: start nats: %v", err)
	}
	return &NATS{srv: srv}
}

// URL returns the server's client URL, nats://127.0.0.1:<port>.
func (n *NATS) URL() string { return n.srv.ClientURL() }

// Server returns the embedded server, e.g. for NATSServer().Jsz.
func (n *NATS) Server() *natsd.Server { return n.srv }

// Conn returns a new in-process client connection, closed when t ends
// (before the server stops). opts are added to the connection's options.
func (n *NATS) Conn(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := n.srv.Connect(opts...)
	if err != nil {
		t.Fatalf("testenv: connect to nats: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// runNATS runs srv in the background. stop cancels Run and returns its
// result once Run has shut the server down; it may be called more than once.
func runNATS(srv *natsd.Server) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	return sync.OnceValue(func() error {
		cancel()
		return <-errc
	})
}

// natsTestLogger returns a logger that writes to t.Logf until t's cleanups
// are done. Server goroutines may log after a test ends, when t.Logf would
// panic; those lines are dropped.
func natsTestLogger(t testing.TB) *slog.Logger {
	level, ok := natsLogLevel(os.Getenv(NATSLogEnv))
	if !ok {
		return slog.New(slog.DiscardHandler)
	}
	w := &natsLogWriter{t: t}
	t.Cleanup(w.close) // registered first, so it runs after the server stopped
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func natsLogLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "off":
		return 0, false
	case "error":
		return slog.LevelError, true
	case "info":
		return slog.LevelInfo, true
	case "debug":
		return slog.LevelDebug, true
	case "trace":
		return natsd.LevelTrace, true
	default:
		return slog.LevelWarn, true
	}
}

// natsLogWriter forwards log lines to t.Logf until closed.
type natsLogWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

// Write logs p with t.Logf, or drops it after close.
func (w *natsLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Logf("nats: %s", strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *natsLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// pollNATS calls cond every interval until it reports done or ctx ends; a
// condition error does not stop the polling but is part of the final error.
func pollNATS(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		done, err := cond()
		if done {
			return nil
		}
		last = err
		select {
		case <-tick.C:
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last: %w)", context.Cause(ctx), last)
			}
			return fmt.Errorf("wait: %w", context.Cause(ctx))
		}
	}
}
