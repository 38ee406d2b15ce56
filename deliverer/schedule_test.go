package deliverer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	schedule := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour}
	transport := errors.New("connection refused")
	tests := map[string]struct {
		err     error
		attempt int
		want    verdict
	}{
		"success": {nil, 1, verdict{outcome: OutcomeDelivered, status: uptime.DeliveryDelivered, settle: settleAck}},
		"first failure waits the first step": {transport, 1,
			verdict{outcome: OutcomeRetry, status: uptime.DeliveryPending, delay: time.Minute, settle: settleNak}},
		"fifth failure waits the last step": {transport, 5,
			verdict{outcome: OutcomeRetry, status: uptime.DeliveryPending, delay: 6 * time.Hour, settle: settleNak}},
		"sixth failure abandons": {transport, 6,
			verdict{outcome: OutcomeAbandoned, status: uptime.DeliveryAbandoned, settle: settleTerm}},
		"permanent abandons at once": {fmt.Errorf("send: %w", &uptime.PermanentError{Err: transport}), 1,
			verdict{outcome: OutcomeAbandoned, status: uptime.DeliveryAbandoned, settle: settleTerm}},
		"deferred uses no attempt": {&uptime.DeferredError{RetryAfter: 42 * time.Second, Reason: "breaker open"}, 6,
			verdict{outcome: OutcomeDeferred, status: uptime.DeliveryPending, delay: 42 * time.Second, refund: true, settle: settleNak}},
		"deferred waits at least a second": {&uptime.DeferredError{}, 1,
			verdict{outcome: OutcomeDeferred, status: uptime.DeliveryPending, delay: time.Second, refund: true, settle: settleNak}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := judge(tc.err, tc.attempt, schedule); got != tc.want {
				t.Errorf("judge = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestStoreRetryDelay(t *testing.T) {
	t.Parallel()
	tests := map[int]time.Duration{0: 2 * time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 9: 512 * time.Second,
		10: 10 * time.Minute, 20: 10 * time.Minute}
	var total time.Duration
	for delivered, want := range tests {
		if got := storeRetryDelay(delivered); got != want {
			t.Errorf("storeRetryDelay(%d) = %v, want %v", delivered, got, want)
		}
	}
	for d := 1; d < 20; d++ {
		total += storeRetryDelay(d)
	}
	if total < 90*time.Minute {
		t.Errorf("20 deliveries span %v: a MySQL outage that long dead-letters messages", total)
	}
}

func TestClipAndResponses(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 2000) // 4000 bytes
	if got := clip(long, uptime.MaxResponseBytes); len(got) > uptime.MaxResponseBytes || !utf8.ValidString(got) {
		t.Errorf("clip: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := clip("a\xffb", 10); got != "a\uFFFDb" {
		t.Errorf("clip invalid utf-8 = %q", got)
	}
	tests := map[string]struct {
		res  uptime.SendResult
		err  error
		want string
	}{
		"receiver answered":  {uptime.SendResult{StatusCode: 500, Response: "oops"}, errors.New("status 500"), "oops"},
		"nothing answered":   {uptime.SendResult{}, errors.New("dial tcp: refused"), "transport: dial tcp: refused"},
		"abandoned unsent":   {uptime.SendResult{}, abandon("webhook %d is inactive", 3), "webhook 3 is inactive"},
		"released unsent":    {uptime.SendResult{}, &storeError{errors.New("load webhook 3: gone")}, "store: load webhook 3: gone"},
		"delivered":          {uptime.SendResult{StatusCode: 200, Response: "ok"}, nil, "ok"},
		"delivered silently": {uptime.SendResult{StatusCode: 204}, nil, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := lastResponse(tc.res, tc.err); got != tc.want {
				t.Errorf("lastResponse = %q, want %q", got, tc.want)
			}
		})
	}
}
