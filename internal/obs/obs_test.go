package obs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/obs"
)

func TestNewLogger(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		format  string
		debug   bool
		isJSON  bool
		debugOn bool
	}{
		"text":       {format: "text"},
		"json":       {format: "json", isJSON: true},
		"json debug": {format: "json", debug: true, isJSON: true, debugOn: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger, err := obs.NewLogger(&buf, tc.format, tc.debug)
			if err != nil {
				t.Fatal(err)
			}
			logger.Debug("dbg")
			logger.Info("hello", "k", "v")
			out := buf.String()
			if got := json.Valid([]byte(strings.Split(strings.TrimSpace(out), "\n")[0])); got != tc.isJSON {
				t.Errorf("output JSON = %v, want %v: %s", got, tc.isJSON, out)
			}
			if got := strings.Contains(out, "dbg"); got != tc.debugOn {
				t.Errorf("debug line present = %v, want %v", got, tc.debugOn)
			}
		})
	}
	if _, err := obs.NewLogger(io.Discard, "xml", false); err == nil {
		t.Error("unknown format must fail")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestOpsServer(t *testing.T) {
	t.Parallel()
	reg := obs.NewRegistry(obs.Build{Version: "v-test", Role: "all"})
	srv, err := obs.NewOpsServer(obs.OpsOpts{Addr: "127.0.0.1:0", Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ready atomic.Bool
	srv.AddReadyCheck("db", func() error {
		if !ready.Load() {
			return errors.New("not connected")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr()

	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, `jetmon_build_info{goversion=`) || !strings.Contains(body, `version="v-test"`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "db: not connected") {
		t.Errorf("/readyz before ready = %d %s", code, body)
	}
	ready.Store(true)
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz when ready = %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestOpsServerPortTaken(t *testing.T) {
	t.Parallel()
	reg := obs.NewRegistry(obs.Build{})
	first, _ := obs.NewOpsServer(obs.OpsOpts{Addr: "127.0.0.1:0", Gatherer: reg})
	if err := first.Listen(t.Context()); err != nil {
		t.Fatal(err)
	}
	second, _ := obs.NewOpsServer(obs.OpsOpts{Addr: first.Addr(), Gatherer: reg})
	if err := second.Listen(t.Context()); err == nil {
		t.Fatal("binding a taken port must fail at Listen")
	}
}
