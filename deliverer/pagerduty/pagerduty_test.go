package pagerduty_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/pagerduty"
	"github.com/jetmon-mesh/jetmon/uptime"
)

var dest = map[string]string{"integration_key": "R0UT1NGKEY0000000000000000000042"}

const accepted = `{"status":"success","message":"Event processed","dedup_key":"jetmon-event-777"}`

func newSender(t *testing.T, url string) *pagerduty.Sender {
	t.Helper()
	s, err := pagerduty.New(pagerduty.Opts{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendAlertGolden freezes the Events v2 body of a trigger, a resolve
// and a test send.
func TestSendAlertGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]uptime.Notice{
		"trigger":   transporttest.DownNotice(),
		"resolve":   transporttest.RecoveryNotice(),
		"test_send": transporttest.TestSendNotice("https://test.invalid/ops-pager"),
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusAccepted, accepted))
			res, err := newSender(t, srv.URL+"/v2/enqueue").SendAlert(t.Context(), dest, n)
			if err != nil || res != (uptime.SendResult{StatusCode: 202, Response: accepted}) {
				t.Fatalf("SendAlert = %+v, %v", res, err)
			}
			transporttest.Golden(t, name, transporttest.Next(t, got).DumpJSON(t))
		})
	}
}

// TestSeverityAndSummary maps every severity and cuts a long summary.
func TestSeverityAndSummary(t *testing.T) {
	t.Parallel()
	long := "https://example.com/x" + strings.Repeat("é", 600) // the 1024th byte is mid-rune
	tests := map[string]struct {
		severity     uptime.Severity
		url          string
		wantSeverity string
		wantSummary  string
	}{
		"down":       {severity: uptime.SeverityDown, wantSeverity: "critical", wantSummary: "Down: https://example.com/shop"},
		"seems down": {severity: uptime.SeveritySeemsDown, wantSeverity: "critical", wantSummary: "SeemsDown: https://example.com/shop"},
		"degraded":   {severity: uptime.SeverityDegraded, wantSeverity: "warning", wantSummary: "Degraded: https://example.com/shop"},
		"warning":    {severity: uptime.SeverityWarning, wantSeverity: "info", wantSummary: "Warning: https://example.com/shop"},
		"up":         {severity: uptime.SeverityUp, wantSeverity: "info", wantSummary: "Up: https://example.com/shop"},
		"no url":     {severity: uptime.SeverityDown, url: "-", wantSeverity: "critical", wantSummary: "Down: site:123456789"},
		"long url":   {severity: uptime.SeverityDown, url: long, wantSeverity: "critical", wantSummary: ("Down: " + long)[:1023]},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusAccepted, accepted))
			n := transporttest.DownNotice()
			n.Severity = tc.severity
			switch tc.url {
			case "":
			case "-":
				n.SiteURL = ""
			default:
				n.SiteURL = tc.url
			}
			if _, err := newSender(t, srv.URL).SendAlert(t.Context(), dest, n); err != nil {
				t.Fatal(err)
			}
			var body struct {
				Payload struct{ Summary, Severity string }
			}
			if err := json.Unmarshal(transporttest.Next(t, got).Body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Payload.Severity != tc.wantSeverity || body.Payload.Summary != tc.wantSummary {
				t.Errorf("severity %q summary %q, want %q %q", body.Payload.Severity, body.Payload.Summary,
					tc.wantSeverity, tc.wantSummary)
			}
			if !utf8.ValidString(body.Payload.Summary) || len(body.Payload.Summary) > 1024 {
				t.Errorf("summary is not at most 1024 bytes of valid UTF-8")
			}
		})
	}
}

func TestSendAlertOutcomes(t *testing.T) {
	t.Parallel()
	tests := map[string]transporttest.Outcome{
		"202 is delivered": {Answer: transporttest.Answering(202, accepted), Dest: dest, WantCode: 202},
		"400 is permanent": {Answer: transporttest.Answering(400, `{"status":"invalid event"}`), Dest: dest,
			WantCode: 400, WantErr: true, Permanent: true},
		"429 is retried":        {Answer: transporttest.Answering(429, ""), Dest: dest, WantCode: 429, WantErr: true},
		"500 is retried":        {Answer: transporttest.Answering(500, ""), Dest: dest, WantCode: 500, WantErr: true},
		"302 is not followed":   {Answer: transporttest.Redirecting("https://elsewhere.example/v2/enqueue"), Dest: dest, WantCode: 302, WantErr: true},
		"no integration key":    {Dest: map[string]string{"address": "x@example.com"}, WantErr: true, Permanent: true},
		"blank integration key": {Dest: map[string]string{"integration_key": " "}, WantErr: true, Permanent: true},
	}
	transporttest.RunOutcomes(t, dest["integration_key"], tests,
		func(t *testing.T, url string, dest map[string]string) (uptime.SendResult, error) {
			return newSender(t, url).SendAlert(t.Context(), dest, transporttest.DownNotice())
		})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := map[string]pagerduty.Opts{
		"not a url":        {URL: "::"},
		"not http":         {URL: "ftp://events.example.com"},
		"negative timeout": {Timeout: -time.Second},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := pagerduty.New(o); err == nil {
				t.Error("New accepted invalid opts")
			}
		})
	}
}
