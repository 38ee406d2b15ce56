package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// lockedBuffer is a bytes.Buffer safe for a running command and a polling test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func envFrom(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut lockedBuffer
	err = run(t.Context(), args, envFrom(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := runCmd(t, nil, "version")
	if err != nil || out != "dev\n" {
		t.Fatalf("version = %q, %v", out, err)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	if _, _, err := runCmd(t, nil, "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateConfigSample(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	out, stderr, err := runCmd(t, map[string]string{"DB_DSN": dsn}, "validate-config", "--config", "../../config/config-sample.json")
	if err != nil {
		t.Fatalf("validate-config: %v\n%s", err, stderr)
	}
	golden := filepath.Join("testdata", "validate-config-sample.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("validate-config output differs from %s (-update to accept):\n%s", golden, out)
	}
}

func TestValidateConfigFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"EMAIL_TRANSPORT": "fax"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		env        map[string]string
		args       []string
		wantStdout string
		wantStderr string
	}{
		"config parse": {nil, []string{"validate-config", "--config", bad}, "",
			"FAIL config parse: EMAIL_TRANSPORT \"fax\": must be one of: stub, smtp, wpcom"},
		"db connect": {map[string]string{"DB_DSN": "root@tcp(127.0.0.1:1)/nope?timeout=200ms"}, []string{"validate-config"},
			"PASS config parse", "FAIL db connect:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := runCmd(t, tc.env, tc.args...)
			if !errors.Is(err, cli.ErrReported) {
				t.Fatalf("err = %v, want ErrReported (exit 1 without a second message)", err)
			}
			if !strings.Contains(out, tc.wantStdout) || strings.Contains(out, "FAIL") {
				t.Errorf("stdout = %q, want %q and no FAIL", out, tc.wantStdout)
			}
			if !strings.HasPrefix(stderr, tc.wantStderr) && !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestProjectionKeysBoth(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	path := filepath.Join(t.TempDir(), "both.json")
	body := `{"LEGACY_STATUS_PROJECTION_ENABLE": false, "DB_UPDATES_ENABLE": true}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCmd(t, map[string]string{"DB_DSN": dsn}, "validate-config", "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "INFO legacy_status_projection=disabled\n") {
		t.Errorf("the new key must win even when false:\n%s", out)
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewEmptyDatabase(t)
	env := map[string]string{"DB_DSN": dsn}
	first, _, err := runCmd(t, env, "migrate")
	if err != nil || !strings.HasPrefix(first, "schema migrated from version 0 to ") {
		t.Fatalf("first migrate = %q, %v", first, err)
	}
	second, _, err := runCmd(t, env, "migrate")
	if err != nil || !strings.HasPrefix(second, "schema up to date at version ") {
		t.Fatalf("second migrate = %q, %v", second, err)
	}
}

// TestAllStartsAndDrains runs `jetmon all` until it is up, then cancels it
// as SIGINT would and expects a clean return well within 10 s.
func TestAllStartsAndDrains(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	env := envFrom(map[string]string{
		"DB_DSN":                    dsn,
		"JETMON_API_ADDR":           "127.0.0.1:0",
		"JETMON_OPS_ADDR":           "127.0.0.1:0",
		"JETMON_NATS_EMBEDDED_ADDR": "127.0.0.1:0",
		"JETMON_NATS_STORE_DIR":     t.TempDir(),
		"JETMON_NODE_ID":            "test-all",
	})
	ctx, cancel := context.WithCancel(t.Context())
	var out, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"all"}, env, &out, &stderr) }()

	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "jetmon all is up") {
		select {
		case err := <-done:
			t.Fatalf("all exited early: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("all did not come up:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	for _, line := range []string{"config: legacy_status_projection=enabled", "config: email_transport=stub",
		"email_transport=stub: alert-contact emails will be logged, not delivered"} {
		if !strings.Contains(stderr.String(), line) {
			t.Errorf("startup log lacks %q", line)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("all returned %v after cancel, want nil\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("all did not stop within 10 s")
	}
}
