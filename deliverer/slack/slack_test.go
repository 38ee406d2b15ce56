package slack_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/slack"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// hookPath looks like a Slack webhook path: it is the credential.
const hookPath = "/services/T000/B000/XXXXSECRETXXXX"

func newSender(t *testing.T, allowHTTP bool) *slack.Sender {
	t.Helper()
	s, err := slack.New(slack.Opts{AllowHTTP: allowHTTP})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendAlertGolden freezes the body of each kind of notice.
func TestSendAlertGolden(t *testing.T) {
	t.Parallel()
	hostile := transporttest.DownNotice()
	hostile.SiteURL = "https://example.com/<!channel>&<https://evil.example|click>"
	tests := map[string]uptime.Notice{
		"down":        transporttest.DownNotice(),
		"recovery":    transporttest.RecoveryNotice(),
		"test_send":   transporttest.TestSendNotice("https://test.invalid/ops-slack"),
		"warning":     transporttest.WarningNotice(),
		"hostile_url": hostile,
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusOK, "ok"))
			res, err := newSender(t, true).SendAlert(t.Context(), map[string]string{"webhook_url": srv.URL + hookPath}, n)
			if err != nil || res != (uptime.SendResult{StatusCode: 200, Response: "ok"}) {
				t.Fatalf("SendAlert = %+v, %v", res, err)
			}
			r := transporttest.Next(t, got)
			if name == "hostile_url" && (strings.Contains(string(r.Body), "<!channel>") || strings.Contains(string(r.Body), "<https://evil")) {
				t.Errorf("markup reached Slack unescaped: %s", r.Body)
			}
			transporttest.Golden(t, name, r.DumpJSON(t))
		})
	}
}

// TestSendAlertContract: the answers and how they are reported, the URLs
// refused (permanent, nothing sent) and a transport error (StatusCode 0,
// retried); no error quotes the URL.
func TestSendAlertContract(t *testing.T) {
	t.Parallel()
	transporttest.RunIncomingWebhook(t, hookPath, "SECRET", func(t *testing.T, allowHTTP bool) transporttest.AlertSender {
		return newSender(t, allowHTTP)
	})
}

func TestNewRejectsNegativeTimeout(t *testing.T) {
	t.Parallel()
	if _, err := slack.New(slack.Opts{Timeout: -time.Second}); err == nil {
		t.Fatal("New accepted a negative timeout")
	}
}
