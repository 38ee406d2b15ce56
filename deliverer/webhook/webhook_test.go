package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
	"github.com/jetmon-mesh/jetmon/uptime"
)

const (
	secret   = "whsec_GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	previous = "whsec_MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPJQWE"
)

func newSender(t *testing.T, o webhook.Opts) *webhook.Sender {
	t.Helper()
	if o.Now == nil {
		o.Now = at
	}
	s, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func delivery(t *testing.T) uptime.Delivery {
	return uptime.Delivery{ID: 4242, Kind: uptime.DeliveryWebhook, DestinationID: 7, EventType: uptime.EventStateChanged,
		Payload: payload(t)}
}

// TestSendWebhookGolden freezes the request on the wire, and proves every
// secret it claims to sign with verifies, and no other.
func TestSendWebhookGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		previous  string
		expiresAt time.Time
		verifies  []string
		rejected  []string
	}{
		"request":                       {verifies: []string{secret}, rejected: []string{previous}},
		"request_rotation_grace_window": {previous: previous, expiresAt: at().Add(time.Hour), verifies: []string{secret, previous}},
		"request_rotation_grace_over": {previous: previous, expiresAt: at(), verifies: []string{secret},
			rejected: []string{previous}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(http.StatusNoContent, ""))
			hook := uptime.Webhook{ID: 7, URL: srv.URL + "/hooks/jetmon", Secret: secret,
				PreviousSecret: tc.previous, PreviousSecretExpiresAt: tc.expiresAt}
			res, err := newSender(t, webhook.Opts{}).SendWebhook(t.Context(), hook, delivery(t))
			if err != nil || res.StatusCode != http.StatusNoContent {
				t.Fatalf("SendWebhook = %+v, %v; want 204, nil", res, err)
			}
			r := transporttest.Next(t, got)
			transporttest.Golden(t, name, r.Dump())
			sig := r.Header.Get(webhook.HeaderSignature)
			for _, s := range tc.verifies {
				if err := webhook.Verify(sig, r.Body, []string{s}, 0, at()); err != nil {
					t.Errorf("Verify with %s: %v", s[:10], err)
				}
			}
			for _, s := range tc.rejected {
				if err := webhook.Verify(sig, r.Body, []string{s}, 0, at()); !errors.Is(err, webhook.ErrSignatureMismatch) {
					t.Errorf("Verify with %s = %v, want ErrSignatureMismatch", s[:10], err)
				}
			}
		})
	}
}

// TestSendWebhookOutcomes covers how each answer is reported.
func TestSendWebhookOutcomes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", uptime.MaxResponseBytes-1) + "é and more"
	tests := map[string]struct {
		status     int
		body       string
		wantErr    bool
		permanent  bool
		wantResult uptime.SendResult
	}{
		"200 is delivered":    {status: 200, body: `{"ok":true}`, wantResult: uptime.SendResult{StatusCode: 200, Response: `{"ok":true}`}},
		"204 is delivered":    {status: 204, wantResult: uptime.SendResult{StatusCode: 204}},
		"500 is retried":      {status: 500, body: "boom", wantErr: true, wantResult: uptime.SendResult{StatusCode: 500, Response: "boom"}},
		"404 is retried":      {status: 404, body: "nope", wantErr: true, wantResult: uptime.SendResult{StatusCode: 404, Response: "nope"}},
		"410 is permanent":    {status: 410, wantErr: true, permanent: true, wantResult: uptime.SendResult{StatusCode: 410}},
		"302 is not followed": {status: 302, wantErr: true, wantResult: uptime.SendResult{StatusCode: 302}},
		"long body is cut at a rune": {status: 200, body: long,
			wantResult: uptime.SendResult{StatusCode: 200, Response: strings.Repeat("a", uptime.MaxResponseBytes-1)}},
		"invalid UTF-8 is replaced": {status: 200, body: "ok\xff\xfe",
			wantResult: uptime.SendResult{StatusCode: 200, Response: "ok\uFFFD"}},
	}
	s := newSender(t, webhook.Opts{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			answer := transporttest.Answering(tc.status, tc.body)
			if tc.status == http.StatusFound {
				answer = transporttest.Redirecting("/elsewhere")
			}
			srv, got := transporttest.Serve(t, answer)
			hook := uptime.Webhook{ID: 7, URL: srv.URL, Secret: secret}
			res, err := s.SendWebhook(t.Context(), hook, delivery(t))
			transporttest.Next(t, got) // the one request; a followed redirect would make a second
			var perm *uptime.PermanentError
			if (err != nil) != tc.wantErr || errors.As(err, &perm) != tc.permanent {
				t.Fatalf("err = %v; want error %v, permanent %v", err, tc.wantErr, tc.permanent)
			}
			if res != tc.wantResult {
				t.Errorf("result = %+v, want %+v", res, tc.wantResult)
			}
			if !utf8.ValidString(res.Response) || len(res.Response) > uptime.MaxResponseBytes {
				t.Errorf("response is not at most %d bytes of valid UTF-8", uptime.MaxResponseBytes)
			}
			transporttest.None(t, got)
		})
	}
}

// TestSendWebhookUnsendable: what can never succeed is permanent and sends nothing.
func TestSendWebhookUnsendable(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		hook    uptime.Webhook
		payload []byte
	}{
		"unparsable url": {hook: uptime.Webhook{URL: "http://[::1", Secret: secret}},
		"not http":       {hook: uptime.Webhook{URL: "ftp://example.com/x", Secret: secret}},
		"no host":        {hook: uptime.Webhook{URL: "https:///path", Secret: secret}},
		"relative url":   {hook: uptime.Webhook{URL: "/hooks", Secret: secret}},
		"empty secret":   {hook: uptime.Webhook{URL: "https://example.com/hook"}},
		"empty payload":  {hook: uptime.Webhook{URL: "https://example.com/hook", Secret: secret}, payload: []byte{}},
	}
	s := newSender(t, webhook.Opts{})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := delivery(t)
			if tc.payload != nil {
				d.Payload = tc.payload
			}
			res, err := s.SendWebhook(t.Context(), tc.hook, d)
			var perm *uptime.PermanentError
			if !errors.As(err, &perm) {
				t.Fatalf("err = %v, want *uptime.PermanentError", err)
			}
			if res != (uptime.SendResult{}) {
				t.Errorf("result = %+v, want empty", res)
			}
		})
	}
}

// TestSendWebhookTransportErrors: nothing answered is StatusCode 0 and retried.
func TestSendWebhookTransportErrors(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client hanging up
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // runs first
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := map[string]struct {
		url     string
		timeout time.Duration
		ctx     func(context.Context) (context.Context, context.CancelFunc)
	}{
		"connection refused": {url: closed.URL},
		"client timeout":     {url: hung.URL, timeout: 100 * time.Millisecond},
		"context deadline": {url: hung.URL, ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 100*time.Millisecond)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := t.Context(), context.CancelFunc(func() {})
			if tc.ctx != nil {
				ctx, cancel = tc.ctx(ctx)
			}
			defer cancel()
			s := newSender(t, webhook.Opts{Timeout: tc.timeout})
			start := time.Now()
			res, err := s.SendWebhook(ctx, uptime.Webhook{URL: tc.url, Secret: secret}, delivery(t))
			var perm *uptime.PermanentError
			if err == nil || errors.As(err, &perm) {
				t.Fatalf("err = %v, want a retryable error", err)
			}
			if res.StatusCode != 0 {
				t.Errorf("status = %d, want 0", res.StatusCode)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %v: the send was not bounded", elapsed)
			}
		})
	}
}

func TestNewRejectsNegativeTimeout(t *testing.T) {
	t.Parallel()
	if _, err := webhook.New(webhook.Opts{Timeout: -time.Second}); err == nil {
		t.Fatal("New accepted a negative timeout")
	}
}
