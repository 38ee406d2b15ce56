package teams_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/teams"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// hookPath looks like a Teams Workflows webhook: it is the credential.
const hookPath = "/workflows/abc/triggers/manual/paths/invoke?sig=XXXXSECRETXXXX"

func newSender(t *testing.T, allowHTTP bool) *teams.Sender {
	t.Helper()
	s, err := teams.New(teams.Opts{AllowHTTP: allowHTTP})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendAlertGolden freezes the body of each kind of notice.
func TestSendAlertGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]uptime.Notice{
		"down":      transporttest.DownNotice(),
		"recovery":  transporttest.RecoveryNotice(),
		"test_send": transporttest.TestSendNotice("https://test.invalid/ops-teams"),
		"warning":   transporttest.WarningNotice(),
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusAccepted, ""))
			res, err := newSender(t, true).SendAlert(t.Context(), map[string]string{"webhook_url": srv.URL + hookPath}, n)
			if err != nil || res != (uptime.SendResult{StatusCode: 202}) {
				t.Fatalf("SendAlert = %+v, %v", res, err)
			}
			transporttest.Golden(t, name, transporttest.Next(t, got).DumpJSON(t))
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
	if _, err := teams.New(teams.Opts{Timeout: -time.Second}); err == nil {
		t.Fatal("New accepted a negative timeout")
	}
}
