package pagerduty_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
		"trigger":   downNotice(),
		"resolve":   recoveryNotice(),
		"test_send": testNotice(),
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := serve(t, answering(http.StatusAccepted, accepted))
			res, err := newSender(t, srv.URL+"/v2/enqueue").SendAlert(t.Context(), dest, n)
			if err != nil || res != (uptime.SendResult{StatusCode: 202, Response: accepted}) {
				t.Fatalf("SendAlert = %+v, %v", res, err)
			}
			golden(t, name, next(t, got).dump(t))
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
			srv, got := serve(t, answering(http.StatusAccepted, accepted))
			n := downNotice()
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
			if err := json.Unmarshal(next(t, got).body, &body); err != nil {
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
	tests := map[string]struct {
		answer    http.HandlerFunc
		dest      map[string]string
		wantCode  int
		wantErr   bool
		permanent bool
	}{
		"202 is delivered":      {answer: answering(202, accepted), dest: dest, wantCode: 202},
		"400 is permanent":      {answer: answering(400, `{"status":"invalid event"}`), dest: dest, wantCode: 400, wantErr: true, permanent: true},
		"429 is retried":        {answer: answering(429, ""), dest: dest, wantCode: 429, wantErr: true},
		"500 is retried":        {answer: answering(500, ""), dest: dest, wantCode: 500, wantErr: true},
		"302 is not followed":   {answer: redirect, dest: dest, wantCode: 302, wantErr: true},
		"no integration key":    {dest: map[string]string{"address": "x@example.com"}, wantErr: true, permanent: true},
		"blank integration key": {dest: map[string]string{"integration_key": " "}, wantErr: true, permanent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := serve(t, tc.answer)
			res, err := newSender(t, srv.URL).SendAlert(t.Context(), tc.dest, downNotice())
			var perm *uptime.PermanentError
			if (err != nil) != tc.wantErr || errors.As(err, &perm) != tc.permanent || res.StatusCode != tc.wantCode {
				t.Fatalf("= %+v, %v; want status %d, error %v, permanent %v", res, err, tc.wantCode, tc.wantErr, tc.permanent)
			}
			if tc.wantCode != 0 {
				next(t, got)
			}
			none(t, got)
		})
	}
}

func redirect(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Location", "https://elsewhere.example/v2/enqueue")
	w.WriteHeader(http.StatusFound)
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
