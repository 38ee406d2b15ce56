package jetmoncmd

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/email"
	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deliverConfig is deliverer d1's config with env.
func deliverConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	return loadConfig(t, map[string]string{"NODE_ID": "d1"}, env)
}

// TestDeliverTransportsWired (issue 6 item 6): the real sender wiring
// builds every managed alert transport, logs the email transport at
// startup (with the WARN when it is stub), and the stub email sender
// renders and "sends".
func TestDeliverTransportsWired(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env       map[string]string
		line      string
		warn      bool
		wantWPCOM bool
	}{
		"stub":  {env: nil, line: "config: email_transport=stub", warn: true},
		"smtp":  {env: map[string]string{"EMAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "2525"}, line: "config: email_transport=smtp"},
		"wpcom": {env: map[string]string{"WPCOM_NOTIFY_ENABLE": "true", "WPCOM_NOTIFY_URL": "https://wpcom.invalid/x", "AUTH_TOKEN": "t"}, line: "config: email_transport=stub", warn: true, wantWPCOM: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			tr, err := buildTransports(deliverConfig(t, tc.env), slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			want := []uptime.AlertTransport{uptime.TransportEmail, uptime.TransportPagerDuty, uptime.TransportSlack, uptime.TransportTeams}
			if got := slices.Sorted(maps.Keys(tr.alerts)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
				t.Errorf("alert transports %v, want %v", got, want)
			}
			if tr.webhooks == nil || (tr.wpcom != nil) != tc.wantWPCOM || (tr.breaker != nil) != tc.wantWPCOM {
				t.Errorf("webhooks %v, wpcom %v, want wpcom %v", tr.webhooks, tr.wpcom, tc.wantWPCOM)
			}
			if tc.wantWPCOM && tr.breaker() != "closed" {
				t.Errorf("a new breaker is %s", tr.breaker())
			}
			out := logs.String()
			if !strings.Contains(out, "msg=\""+tc.line+"\"") {
				t.Errorf("startup logs lack %q:\n%s", tc.line, out)
			}
			if got := strings.Contains(out, "level=WARN msg=\"email_transport=stub: alert-contact emails will be logged, not delivered\""); got != tc.warn {
				t.Errorf("stub WARN logged %v, want %v:\n%s", got, tc.warn, out)
			}
		})
	}
}

// TestDeliverEmailLineOncePerProcess (issue 6 item 6): every process that
// can send email, wired as `jetmon deliverer`, `jetmon api` and `jetmon all`
// (both roles on one node) wire it, logs the email transport exactly once,
// from the wiring of the senders it uses, with the WARN for stub.
func TestDeliverEmailLineOncePerProcess(t *testing.T) {
	t.Parallel()
	w := newDlvWorld(t)
	var logs syncBuffer
	w.logger = slog.New(slog.NewTextHandler(&logs, nil))
	both := func(ctx context.Context, rt *cli.Runtime, node *cli.Node) error {
		if err := addDeliverer(ctx, rt, node); err != nil {
			return err
		}
		return addAPI(ctx, rt, node)
	}
	api := map[string]string{"API_ADDR": "127.0.0.1:0"}
	w.start(addDeliverer, "deliverer", "a", nil)
	w.start(addAPI, "api", "a", api)
	w.start(both, "all", "a", api)
	out := logs.String()
	for _, node := range []string{"deliverer", "api", "all"} {
		for _, line := range []string{
			`level=INFO msg="config: email_transport=stub" node_id=` + node + " ",
			`level=WARN msg="email_transport=stub: alert-contact emails will be logged, not delivered" node_id=` + node + " ",
		} {
			if n := strings.Count(out, line); n != 1 {
				t.Errorf("node %s logged %q %d times, want once", node, line, n)
			}
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestDeliverStubEmailSends(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	tr, err := buildTransports(deliverConfig(t, nil), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n := uptime.Notice{DeliveryID: 5, EventType: "alert.state_changed", SiteID: 42, SiteURL: "https://shop.example",
		EventID: 7, TransitionID: 9, CheckType: "http", SeverityBefore: uptime.SeveritySeemsDown,
		Severity: uptime.SeverityDown, State: uptime.StateDown, Reason: uptime.ReasonVerifierConfirmed,
		OccurredAt: time.Now(), DedupKey: "jetmon-event-7"}
	res, err := tr.alerts[uptime.TransportEmail].SendAlert(t.Context(), map[string]string{"address": "ops@example.com"}, n)
	if err != nil || res.StatusCode != 250 || res.Response != email.StubResponse {
		t.Fatalf("stub send: %+v, %v", res, err)
	}
	out := logs.String()
	for _, want := range []string{"msg=\"email stub send\"", "to=ops@example.com", "[Down] https://shop.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("stub send log lacks %q:\n%s", want, out)
		}
	}
}

// TestDeliverDemoReceiver: the demo's receiver accepts deliveries signed
// with its secret, counts a repeated delivery as a duplicate and rejects a
// bad signature.
func TestDeliverDemoReceiver(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	r, err := newDemoReceiver(t.Context(), staticSecret(dlvSecret), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	body := []byte(`{"v":1,"type":"event.opened","transition":{"id":31},"event":{"id":3},"site":{"id":4}}`)
	post := func(secret string) int {
		now := time.Now()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL(), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(webhook.HeaderDelivery, "12")
		req.Header.Set(webhook.HeaderEvent, uptime.EventOpened)
		req.Header.Set(webhook.HeaderSignature, fmt.Sprintf("t=%d,v1=%s", now.Unix(), webhook.Sign(secret, now, body)))
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	codes := []int{post(dlvSecret), post(dlvSecret), post("whsec_wrong")}
	if !slices.Equal(codes, []int{http.StatusNoContent, http.StatusNoContent, http.StatusUnauthorized}) {
		t.Errorf("answers %v", codes)
	}
	if deliveries, duplicates, rejected := r.stats(); deliveries != 1 || duplicates != 1 || rejected != 1 {
		t.Errorf("stats %d deliveries, %d duplicates, %d rejected; want 1, 1, 1", deliveries, duplicates, rejected)
	}
	want := "msg=\"demo webhook received\" component=demo-receiver event_type=event.opened delivery_id=12 transition_id=31"
	if !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, logs.String())
	}
}
