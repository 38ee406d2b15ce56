package jetmoncmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// TestAllDemoPrintsWorkingCurlLines runs `jetmon all --demo` as `make run`
// does and runs the curl lines it prints on stdout, as printed: the demo
// sites are listed, the flaky site's events answer, and a webhook is
// registered at the demo receiver. Then it drains on cancel.
func TestAllDemoPrintsWorkingCurlLines(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	dir := t.TempDir()
	env := map[string]string{
		"DB_DSN": dsn, "JETMON_API_ADDR": "127.0.0.1:0", "JETMON_OPS_ADDR": "127.0.0.1:0",
		"JETMON_NATS_EMBEDDED_ADDR": "127.0.0.1:0", "JETMON_NATS_STORE_DIR": filepath.Join(dir, "nats"),
		"JETMON_NODE_ID": "demo-test", "JETMON_SHUTDOWN_TIMEOUT_SEC": "5",
	}
	var stdout, stderr syncBuffer
	root := Root(cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Version: "test"})
	root.SetArgs([]string{"all", "--demo"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var lines []string
	waitFor(t, 60*time.Second, "the demo prints its curl lines", func() error {
		select {
		case err := <-done:
			t.Fatalf("jetmon all --demo exited early: %v\n%s", err, stderr.String())
		default:
		}
		lines = nil
		for line := range strings.Lines(stdout.String()) {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "curl ") {
				lines = append(lines, line)
			}
		}
		if len(lines) != 3 {
			return fmt.Errorf("%d curl lines printed", len(lines))
		}
		return nil
	})
	if !strings.Contains(stdout.String(), "# Jetmon demo: admin API key jm_") {
		t.Errorf("stdout lacks the admin key line:\n%s", stdout.String())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var sites struct {
		Data []struct {
			ID int64 `json:"id"`
		} `json:"data"`
	}
	if out := runCurlLine(t, client, lines[0]); json.Unmarshal([]byte(out), &sites) != nil || len(sites.Data) != 5 {
		t.Errorf("list sites printed %s, want the 5 demo sites", out)
	}
	var events struct {
		Data []json.RawMessage `json:"data"`
	}
	if out := runCurlLine(t, client, lines[1]); json.Unmarshal([]byte(out), &events) != nil || events.Data == nil {
		t.Errorf("the flaky site's events printed %s, want a list", out)
	}
	var hook struct {
		ID     int64  `json:"id"`
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if out := runCurlLine(t, client, lines[2]); json.Unmarshal([]byte(out), &hook) != nil || hook.ID == 0 ||
		!strings.HasPrefix(hook.Secret, "whsec_") || !strings.HasSuffix(hook.URL, "/hook/yours") {
		t.Errorf("register a webhook printed %s, want the new webhook at the demo receiver with its secret", out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("jetmon all --demo returned %v after cancel\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Error("jetmon all --demo did not stop within 15 s")
	}
}
