package wpcom_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/wpcom"
	"github.com/jetmon-mesh/jetmon/uptime"
)

const token = "test-auth-token"

func newNotifier(t *testing.T, o wpcom.Opts) *wpcom.Notifier {
	t.Helper()
	if o.Token == "" {
		o.Token = token
	}
	n, err := wpcom.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func confirmedDown() uptime.StatusChange {
	return uptime.StatusChange{
		BlogID: 123456789, MonitorURL: "https://example.com/shop", StatusID: uptime.WPCOMStatusConfirmedDown,
		StatusType: "server", LastCheck: transporttest.At().Add(-2 * time.Second), LastStatusChange: transporttest.At(),
		Checks: []uptime.StatusCheck{
			{Type: uptime.WPCOMCheckLocal, Host: "us/prober-us-1", Status: 0, RTT: 312 * time.Millisecond, Code: 503},
			{Type: uptime.WPCOMCheckVeriflier, Host: "eu-west/veriflier-eu-1", Status: 0, RTT: 412 * time.Millisecond, Code: 503},
			{Type: uptime.WPCOMCheckVeriflier, Host: "ap-south/veriflier-ap-1", Status: 0, RTT: 1500 * time.Millisecond, Code: 0},
		},
	}
}

func running() uptime.StatusChange {
	return uptime.StatusChange{
		BlogID: 123456789, MonitorURL: "https://example.com/shop", StatusID: uptime.WPCOMStatusRunning,
		StatusType: "success", LastCheck: transporttest.At(), LastStatusChange: transporttest.At(),
		Checks: []uptime.StatusCheck{{Type: uptime.WPCOMCheckLocal, Host: "us/prober-us-1", Status: 1, RTT: 87 * time.Millisecond, Code: 200}},
	}
}

// TestNotifyStatusChangeGolden freezes the v1 payload and headers.
func TestNotifyStatusChangeGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]uptime.StatusChange{
		"confirmed_down":    confirmedDown(),
		"running":           running(),
		"no_checks_is_list": {BlogID: 1, MonitorURL: "https://a.example", StatusID: 1, StatusType: "success", LastCheck: transporttest.At(), LastStatusChange: transporttest.At()},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusOK, `{"success":true}`))
			n := newNotifier(t, wpcom.Opts{URL: srv.URL + "/wpcom/v2/jetpack-monitor/status-change"})
			res, err := n.NotifyStatusChange(t.Context(), change)
			if err != nil || res != (uptime.SendResult{StatusCode: 200, Response: `{"success":true}`}) {
				t.Fatalf("NotifyStatusChange = %+v, %v", res, err)
			}
			transporttest.Golden(t, name, transporttest.Next(t, got).DumpJSON(t))
		})
	}
}

func TestNotifyStatusChangeOutcomes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		answer    http.HandlerFunc
		change    uptime.StatusChange
		wantSent  bool
		wantErr   bool
		permanent bool
		wantCode  int
	}{
		"201 is delivered": {answer: transporttest.Answering(201, ""), change: running(), wantSent: true, wantCode: 201},
		"400 is retried":   {answer: transporttest.Answering(400, "bad"), change: running(), wantSent: true, wantErr: true, wantCode: 400},
		"503 is retried":   {answer: transporttest.Answering(503, ""), change: running(), wantSent: true, wantErr: true, wantCode: 503},
		"302 is not followed": {answer: transporttest.Redirecting("/elsewhere"), change: running(), wantSent: true,
			wantErr: true, wantCode: 302},
		"no blog id is permanent":  {change: uptime.StatusChange{StatusID: 1}, wantErr: true, permanent: true},
		"seems down is never sent": {change: uptime.StatusChange{BlogID: 1, StatusID: 0}, wantErr: true, permanent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, tc.answer)
			res, err := newNotifier(t, wpcom.Opts{URL: srv.URL}).NotifyStatusChange(t.Context(), tc.change)
			var perm *uptime.PermanentError
			if (err != nil) != tc.wantErr || errors.As(err, &perm) != tc.permanent || res.StatusCode != tc.wantCode {
				t.Fatalf("= %+v, %v; want status %d, error %v, permanent %v", res, err, tc.wantCode, tc.wantErr, tc.permanent)
			}
			if tc.wantSent {
				transporttest.Next(t, got)
			}
			transporttest.None(t, got) // exactly one request, or none
		})
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := map[string]wpcom.Opts{
		"no token":              {URL: "https://example.com"},
		"not a url":             {Token: token, URL: "::"},
		"not http":              {Token: token, URL: "ftp://example.com/x"},
		"negative timeout":      {Token: token, Timeout: -time.Second},
		"negative threshold":    {Token: token, FailureThreshold: -1},
		"negative open timeout": {Token: token, OpenTimeout: -time.Second},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := wpcom.New(o); err == nil {
				t.Error("New accepted invalid opts")
			}
		})
	}
	n := newNotifier(t, wpcom.Opts{})
	if got := n.State(); got != wpcom.StateClosed {
		t.Errorf("a new notifier's breaker is %q, want closed", got)
	}
}
