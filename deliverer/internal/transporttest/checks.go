package transporttest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// AlertSender is an alert-contact transport, as the checks drive it.
type AlertSender interface {
	SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error)
}

// Outcome is one row of a table of answers and how a transport reports them.
type Outcome struct {
	Answer    http.HandlerFunc  // the receiver's answer
	Dest      map[string]string // the destination, for a transport whose send takes it from the row
	WantCode  int               // the SendResult's status; 0: nothing is sent
	WantErr   bool              // the send fails
	Permanent bool              // the failure is a *uptime.PermanentError
}

// RunIncomingWebhook runs the checks of a chat incoming-webhook transport
// (Slack, Teams; the rules of deliverer/internal/chathook) through the
// senders newSender builds, as parallel subtests: "outcomes" (each answer
// and how it is reported), "refused URLs" (with a sender that does not
// allow http) and "transport error". Webhook URLs are a receiver's URL
// followed by hookPath, and no error may contain secret.
func RunIncomingWebhook(t *testing.T, hookPath, secret string, newSender func(t *testing.T, allowHTTP bool) AlertSender) {
	t.Helper()
	send := func(t *testing.T, url string) (uptime.SendResult, error) {
		t.Helper()
		return newSender(t, true).SendAlert(t.Context(), map[string]string{"webhook_url": url + hookPath}, DownNotice())
	}
	t.Run("outcomes", func(t *testing.T) {
		t.Parallel()
		RunOutcomes(t, secret, incomingWebhookOutcomes(),
			func(t *testing.T, url string, _ map[string]string) (uptime.SendResult, error) { return send(t, url) })
	})
	t.Run("refused URLs", func(t *testing.T) {
		t.Parallel()
		runRefusedURLs(t, newSender(t, false), hookPath, secret)
	})
	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		checkTransportError(t, secret, func(url string) (uptime.SendResult, error) { return send(t, url) })
	})
}

// incomingWebhookOutcomes are the answers of a chat incoming webhook
// (Slack, Teams) and how the transport must report them: 2xx is delivered;
// 403, 404 and 410 (a webhook that no longer works) are permanent; other
// answers, and a redirect, which is not followed, are retried.
func incomingWebhookOutcomes() map[string]Outcome {
	return map[string]Outcome{
		"200 is delivered": {Answer: Answering(200, "ok"), WantCode: 200},
		"400 is retried":   {Answer: Answering(400, "invalid_payload"), WantCode: 400, WantErr: true},
		"403 is permanent": {Answer: Answering(403, "invalid_token"), WantCode: 403, WantErr: true, Permanent: true},
		"404 is permanent": {Answer: Answering(404, "no_service"), WantCode: 404, WantErr: true, Permanent: true},
		"410 is permanent": {Answer: Answering(410, "channel_is_archived"), WantCode: 410, WantErr: true, Permanent: true},
		"429 is retried":   {Answer: Answering(429, "rate_limited"), WantCode: 429, WantErr: true},
		"500 is retried":   {Answer: Answering(500, ""), WantCode: 500, WantErr: true},
		"302 elsewhere is not followed": {Answer: Redirecting("https://elsewhere.example/hook"), WantCode: 302,
			WantErr: true},
	}
}

// RunOutcomes runs each row in parallel against a receiver of its own that
// answers row.Answer; send sends one notice to the receiver at url. It
// checks the status, the error and whether it is permanent, that the error
// does not contain secret, and that the receiver got exactly one request
// (none when WantCode is 0).
func RunOutcomes(t *testing.T, secret string, rows map[string]Outcome,
	send func(t *testing.T, url string, dest map[string]string) (uptime.SendResult, error)) {
	t.Helper()
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := Serve(t, row.Answer)
			res, err := send(t, srv.URL, row.Dest)
			var perm *uptime.PermanentError
			if (err != nil) != row.WantErr || errors.As(err, &perm) != row.Permanent || res.StatusCode != row.WantCode {
				t.Fatalf("= %+v, %v; want status %d, error %v, permanent %v", res, err, row.WantCode, row.WantErr, row.Permanent)
			}
			if leaks(err, secret) {
				t.Errorf("error %q carries %q", err, secret)
			}
			if row.WantCode != 0 {
				Next(t, got)
			}
			None(t, got)
		})
	}
}

// runRefusedURLs sends DownNotice in parallel to each destination an
// incoming-webhook transport must refuse: none, no webhook_url, not a URL,
// no host, not https, and an http URL (s must not allow http) of a live
// receiver at hookPath. Each error must be a *uptime.PermanentError that
// does not contain secret, and nothing may reach the receiver.
func runRefusedURLs(t *testing.T, s AlertSender, hookPath, secret string) {
	t.Helper()
	srv, got := Serve(t, Answering(200, "ok"))
	rows := map[string]map[string]string{
		"no destination": nil,
		"no webhook_url": {"address": "ops@example.com"},
		"not a url":      {"webhook_url": "::"},
		"no host":        {"webhook_url": "https:///services/x"},
		"not https":      {"webhook_url": "ftp://hooks.example.com/x"},
		"http refused":   {"webhook_url": srv.URL + hookPath},
	}
	for name, dest := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := s.SendAlert(t.Context(), dest, DownNotice())
			var perm *uptime.PermanentError
			if !errors.As(err, &perm) {
				t.Fatalf("err = %v, want *uptime.PermanentError", err)
			}
			if leaks(err, secret) {
				t.Errorf("error %q carries %q", err, secret)
			}
		})
	}
	t.Cleanup(func() { None(t, got) })
}

// checkTransportError sends to url, where nothing listens: the answer must
// be StatusCode 0 and an error to retry that does not contain secret.
func checkTransportError(t testing.TB, secret string, send func(url string) (uptime.SendResult, error)) {
	t.Helper()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	res, err := send(closed.URL)
	var perm *uptime.PermanentError
	if err == nil || errors.As(err, &perm) || res.StatusCode != 0 {
		t.Fatalf("= %+v, %v; want a retryable error with status 0", res, err)
	}
	if leaks(err, secret) {
		t.Errorf("error %q carries %q", err, secret)
	}
}

// leaks reports whether err's text contains secret (never for "").
func leaks(err error, secret string) bool {
	return err != nil && secret != "" && strings.Contains(err.Error(), secret)
}
