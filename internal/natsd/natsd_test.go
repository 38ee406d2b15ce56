package natsd_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

// runServer runs srv in the background until the test ends and returns the
// channel that receives Run's result.
func runServer(t *testing.T, srv *natsd.Server) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		errc <- srv.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return errc
}

// startServer builds, runs and waits for a server.
func startServer(t *testing.T, opts natsd.Opts) *natsd.Server {
	t.Helper()
	srv, err := natsd.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runServer(t, srv)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return srv
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := map[string]struct {
		opts    natsd.Opts
		wantErr string
	}{
		"store dir only":         {opts: natsd.Opts{StoreDir: dir}},
		"config file only":       {opts: natsd.Opts{ConfigFile: "x.conf"}},
		"in-process":             {opts: natsd.Opts{StoreDir: dir, NoListen: true}},
		"fixed port":             {opts: natsd.Opts{StoreDir: dir, Port: 14222}},
		"no store dir":           {opts: natsd.Opts{}, wantErr: "store dir required"},
		"port too large":         {opts: natsd.Opts{StoreDir: dir, Port: 70000}, wantErr: "out of range"},
		"port below -1":          {opts: natsd.Opts{StoreDir: dir, Port: -2}, wantErr: "out of range"},
		"port with no listen":    {opts: natsd.Opts{StoreDir: dir, Port: 14222, NoListen: true}, wantErr: "NoListen"},
		"negative max memory":    {opts: natsd.Opts{StoreDir: dir, MaxMemory: -1}, wantErr: "negative"},
		"negative ready timeout": {opts: natsd.Opts{StoreDir: dir, ReadyTimeout: -time.Second}, wantErr: "negative"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := natsd.New(tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestRunInProcessJetStream(t *testing.T) {
	t.Parallel()
	srv := startServer(t, natsd.Opts{StoreDir: t.TempDir(), NoListen: true, ServerName: "inproc"})
	if got := srv.ClientURL(); got != "" {
		t.Errorf("ClientURL with NoListen = %q, want empty", got)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatalf("connect in-process: %v", err)
	}
	t.Cleanup(nc.Close)
	if got := nc.ConnectedServerName(); got != "inproc" {
		t.Errorf("server name = %q, want inproc", got)
	}

	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	ctx := t.Context()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	ack, err := js.Publish(ctx, "t.1", []byte("hello"), jetstream.WithMsgID("m1"))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if ack.Stream != "T" || ack.Sequence != 1 {
		t.Errorf("ack = %+v, want stream T seq 1", ack)
	}
	dup, err := js.Publish(ctx, "t.1", []byte("hello"), jetstream.WithMsgID("m1"))
	if err != nil {
		t.Fatalf("publish duplicate: %v", err)
	}
	if !dup.Duplicate {
		t.Errorf("second publish with the same msg id: Duplicate = false")
	}
}

func TestRunRandomPortAndConnect(t *testing.T) {
	t.Parallel()
	srv := startServer(t, natsd.Opts{StoreDir: t.TempDir()})
	u := srv.ClientURL()
	if !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.HasSuffix(u, ":4222") {
		t.Fatalf("ClientURL = %q, want a random loopback port", u)
	}
	nc, err := nats.Connect(u)
	if err != nil {
		t.Fatalf("connect %s: %v", u, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	if _, err := js.AccountInfo(t.Context()); err != nil {
		t.Fatalf("account info: %v", err)
	}

	// Connect is the in-process shortcut, usable next to a TCP listener.
	inproc, err := srv.Connect(nats.Name("inproc"))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(inproc.Close)
	if err := inproc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func TestRunConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	data := "server_name: from-file\njetstream { store_dir: \"" + filepath.Join(dir, "js") + "\" }\n"
	if err := os.WriteFile(conf, []byte(data), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	tests := map[string]struct {
		opts     natsd.Opts
		wantName string
	}{
		"file values, loopback and a random port by default": {
			opts: natsd.Opts{ConfigFile: conf}, wantName: "from-file",
		},
		"fields override the file": {
			opts: natsd.Opts{ConfigFile: conf, ServerName: "override", StoreDir: t.TempDir()}, wantName: "override",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tc.opts)
			if got := srv.NATSServer().Name(); got != tc.wantName {
				t.Errorf("server name = %q, want %q", got, tc.wantName)
			}
			if u := srv.ClientURL(); !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.HasSuffix(u, ":4222") {
				t.Errorf("ClientURL = %q, want a random loopback port", u)
			}
		})
	}
	srv, err := natsd.New(natsd.Opts{ConfigFile: filepath.Join(dir, "missing.conf")})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "parse config file") {
		t.Errorf("Run with a missing config file = %v, want a parse error", err)
	}
	srv, err = natsd.New(natsd.Opts{StoreDir: t.TempDir(), NoListen: true, Configure: func(o *server.Options) {
		o.Cluster.Port = 16222
	}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "client listener") {
		t.Errorf("Run of a cluster node without a client listener = %v, want an error", err)
	}
}

func TestRunFatalErrorsReturnInsteadOfExit(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}

	tests := map[string]struct {
		opts    natsd.Opts
		wantLog string
	}{
		"client port in use": {
			opts:    natsd.Opts{StoreDir: t.TempDir(), Port: busy.Addr().(*net.TCPAddr).Port},
			wantLog: "Error listening on port",
		},
		"route port in use (reported from a server goroutine)": {
			opts: natsd.Opts{StoreDir: t.TempDir(), ServerName: "r", Configure: func(o *server.Options) {
				o.Cluster.Name = "c"
				o.Cluster.Host = "127.0.0.1"
				o.Cluster.Port = busy.Addr().(*net.TCPAddr).Port
				o.Routes = server.RoutesFromStr("nats-route://" + busy.Addr().String())
			}},
			wantLog: "Error listening on router port",
		},
		"store dir is a file": {
			opts:    natsd.Opts{StoreDir: filepath.Join(notADir, "sub"), NoListen: true},
			wantLog: "Can't start JetStream",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			tc.opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			srv, err := natsd.New(tc.opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			errc := runServer(t, srv)
			var runErr error
			select {
			case runErr = <-errc:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after a fatal server error")
			}
			if !errors.Is(runErr, natsd.ErrFatal) {
				t.Fatalf("Run error = %v, want ErrFatal", runErr)
			}
			if err := srv.WaitReady(t.Context()); !errors.Is(err, natsd.ErrFatal) {
				t.Errorf("WaitReady error = %v, want ErrFatal", err)
			}
			if got := logs.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, tc.wantLog) {
				t.Errorf("logs lack an ERROR line with %q:\n%s", tc.wantLog, got)
			}
		})
	}
}

func TestRunReturnsNilPromptlyOnCancel(t *testing.T) {
	t.Parallel()
	srv, err := natsd.New(natsd.Opts{StoreDir: t.TempDir(), NoListen: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	if err := srv.WaitReady(t.Context()); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	nc, err := srv.Connect()
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer nc.Close()

	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	t.Logf("stopped in %s", time.Since(start))
	if err := srv.Run(t.Context()); !errors.Is(err, natsd.ErrAlreadyRun) {
		t.Errorf("second Run = %v, want ErrAlreadyRun", err)
	}
}

func TestRunCancelledBeforeReadyIsANormalStop(t *testing.T) {
	t.Parallel()
	srv, err := natsd.New(natsd.Opts{StoreDir: t.TempDir(), NoListen: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := srv.Run(ctx); err != nil {
		t.Fatalf("Run with a cancelled context = %v, want nil", err)
	}
	if err := srv.WaitReady(t.Context()); !errors.Is(err, natsd.ErrStopped) {
		t.Errorf("WaitReady = %v, want ErrStopped", err)
	}
}

func TestAccessorsBeforeReady(t *testing.T) {
	t.Parallel()
	srv, err := natsd.New(natsd.Opts{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := srv.InProcessConn(); !errors.Is(err, natsd.ErrNotReady) {
		t.Errorf("InProcessConn before Run = %v, want ErrNotReady", err)
	}
	if _, err := srv.Connect(); !errors.Is(err, natsd.ErrNotReady) {
		t.Errorf("Connect before Run = %v, want ErrNotReady", err)
	}
	if srv.ClientURL() != "" || srv.NATSServer() != nil {
		t.Error("ClientURL/NATSServer before Run are not empty")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := srv.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady without Run = %v, want deadline exceeded", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logging goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
