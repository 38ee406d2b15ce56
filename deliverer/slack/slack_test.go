package slack_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/slack"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// hookPath looks like a Slack webhook path: it is the credential.
const hookPath = "/services/T000/B000/XXXXSECRETXXXX"

func newSender(t *testing.T) *slack.Sender {
	t.Helper()
	s, err := slack.New(slack.Opts{AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendAlertGolden freezes the body of each kind of notice.
func TestSendAlertGolden(t *testing.T) {
	t.Parallel()
	warning := downNotice()
	warning.Severity, warning.State, warning.Reason = uptime.SeverityWarning, uptime.StateWarning, ""
	hostile := downNotice()
	hostile.SiteURL = "https://example.com/<!channel>&<https://evil.example|click>"
	tests := map[string]uptime.Notice{
		"down":        downNotice(),
		"recovery":    recoveryNotice(),
		"test_send":   testNotice(),
		"warning":     warning,
		"hostile_url": hostile,
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := serve(t, answering(http.StatusOK, "ok"))
			res, err := newSender(t).SendAlert(t.Context(), map[string]string{"webhook_url": srv.URL + hookPath}, n)
			if err != nil || res != (uptime.SendResult{StatusCode: 200, Response: "ok"}) {
				t.Fatalf("SendAlert = %+v, %v", res, err)
			}
			r := next(t, got)
			if name == "hostile_url" && (strings.Contains(string(r.body), "<!channel>") || strings.Contains(string(r.body), "<https://evil")) {
				t.Errorf("markup reached Slack unescaped: %s", r.body)
			}
			golden(t, name, r.dump(t))
		})
	}
}

func TestSendAlertOutcomes(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		answer    http.HandlerFunc
		wantCode  int
		wantErr   bool
		permanent bool
	}{
		"200 is delivered":              {answer: answering(200, "ok"), wantCode: 200},
		"400 is retried":                {answer: answering(400, "invalid_payload"), wantCode: 400, wantErr: true},
		"403 is permanent":              {answer: answering(403, "invalid_token"), wantCode: 403, wantErr: true, permanent: true},
		"404 is permanent":              {answer: answering(404, "no_service"), wantCode: 404, wantErr: true, permanent: true},
		"410 is permanent":              {answer: answering(410, "channel_is_archived"), wantCode: 410, wantErr: true, permanent: true},
		"429 is retried":                {answer: answering(429, "rate_limited"), wantCode: 429, wantErr: true},
		"500 is retried":                {answer: answering(500, ""), wantCode: 500, wantErr: true},
		"302 elsewhere is not followed": {answer: redirect, wantCode: 302, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := serve(t, tc.answer)
			res, err := newSender(t).SendAlert(t.Context(), map[string]string{"webhook_url": srv.URL + hookPath}, downNotice())
			var perm *uptime.PermanentError
			if (err != nil) != tc.wantErr || errors.As(err, &perm) != tc.permanent || res.StatusCode != tc.wantCode {
				t.Fatalf("= %+v, %v; want status %d, error %v, permanent %v", res, err, tc.wantCode, tc.wantErr, tc.permanent)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q carries the webhook URL", err)
			}
			next(t, got)
			none(t, got)
		})
	}
}

func redirect(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Location", "https://elsewhere.example/hook")
	w.WriteHeader(http.StatusFound)
}

// TestSendAlertRefusesURL: what cannot work is permanent and sends nothing.
func TestSendAlertRefusesURL(t *testing.T) {
	t.Parallel()
	strict, err := slack.New(slack.Opts{})
	if err != nil {
		t.Fatal(err)
	}
	srv, got := serve(t, answering(200, "ok"))
	tests := map[string]map[string]string{
		"no destination": nil,
		"no webhook_url": {"address": "ops@example.com"},
		"not a url":      {"webhook_url": "::"},
		"no host":        {"webhook_url": "https:///services/x"},
		"not https":      {"webhook_url": "ftp://hooks.example.com/x"},
		"http refused":   {"webhook_url": srv.URL + hookPath},
	}
	for name, dest := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := strict.SendAlert(t.Context(), dest, downNotice())
			var perm *uptime.PermanentError
			if !errors.As(err, &perm) {
				t.Fatalf("err = %v, want *uptime.PermanentError", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q carries the webhook URL", err)
			}
		})
	}
	t.Cleanup(func() { none(t, got) })
}

// TestSendAlertTransportError: nothing answered is StatusCode 0, retried,
// and the error does not quote the URL.
func TestSendAlertTransportError(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	res, err := newSender(t).SendAlert(t.Context(), map[string]string{"webhook_url": closed.URL + hookPath}, downNotice())
	var perm *uptime.PermanentError
	if err == nil || errors.As(err, &perm) || res.StatusCode != 0 {
		t.Fatalf("= %+v, %v; want a retryable error with status 0", res, err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q carries the webhook URL", err)
	}
}

func TestNewRejectsNegativeTimeout(t *testing.T) {
	t.Parallel()
	if _, err := slack.New(slack.Opts{Timeout: -time.Second}); err == nil {
		t.Fatal("New accepted a negative timeout")
	}
}
