package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// startFleet serves a testsite fleet for the test's lifetime.
func startFleet(t *testing.T) *testsite.Fleet {
	t.Helper()
	fleet, err := testsite.New(testsite.Opts{Addr: "127.0.0.1:0", CADir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fleet.Run(t.Context()) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("fleet: %v", err)
		}
	})
	if err := fleet.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	return fleet
}

func TestCheckCommand(t *testing.T) {
	t.Parallel()
	fleet := startFleet(t)
	if err := fleet.Set("down", testsite.Behaviour{Kind: testsite.KindStatus, Status: 503}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args     []string
		failed   bool
		wantCode int
		wantName string
	}{
		"up":              {[]string{fleet.URL("up")}, false, 200, "none"},
		"server error":    {[]string{fleet.URL("down")}, true, 503, "none"},
		"keyword missing": {[]string{"--keyword", "no-such-word-here", fleet.URL("up")}, true, 200, "keyword"},
		"refused":         {[]string{"http://127.0.0.1:1/"}, true, 0, "connect"},
		"custom header":   {[]string{"--header", "X-Probe: jetmon", fleet.URL("up")}, false, 200, "none"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runCmd(t, nil, append([]string{"check", "--output", "json"}, tc.args...)...)
			if got := errors.Is(err, cli.ErrReported); got != tc.failed {
				t.Fatalf("failed = %v (err %v), want %v", got, err, tc.failed)
			}
			var rep struct {
				HTTPCode  int    `json:"http_code"`
				ErrorName string `json:"error_name"`
				Success   bool   `json:"success"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			if rep.HTTPCode != tc.wantCode || rep.ErrorName != tc.wantName {
				t.Errorf("http_code=%d error_name=%s, want %d %s", rep.HTTPCode, rep.ErrorName, tc.wantCode, tc.wantName)
			}
		})
	}
	out, _, err := runCmd(t, nil, "check", fleet.URL("up"))
	if err != nil || !strings.Contains(out, "outcome           UP") {
		t.Errorf("text output = %q, %v", out, err)
	}
	if _, _, err := runCmd(t, nil, "check", "--redirect-policy", "sometimes", fleet.URL("up")); err == nil ||
		!strings.Contains(err.Error(), "must be one of follow, alert, fail") {
		t.Errorf("bad policy: %v", err)
	}
}
