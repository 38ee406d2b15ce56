package jetmoncmd

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/checkreport"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestAPICommandErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err      error
		want     error // nil: neither API sentinel
		notWant  error
		wantText string
	}{
		"no leader": {err: fmt.Errorf("%w: no responders", bus.ErrCoordinatorUnavailable),
			want: api.ErrCoordinatorUnavailable, wantText: "coordinator site.pause: coordinator unavailable: no responders"},
		"leader stopping": {err: fmt.Errorf("subject: %w", &bus.CommandError{Code: bus.CodeUnavailable, Message: "server stopping"}),
			want: api.ErrCoordinatorUnavailable, wantText: "coordinator site.pause: coordinator unavailable: server stopping"},
		"unknown site": {err: &bus.CommandError{Code: bus.CodeNotFound, Message: "blog 9: no site"},
			want: api.ErrNotFound, notWant: api.ErrCoordinatorUnavailable},
		"refused payload": {err: &bus.CommandError{Code: bus.CodeBadRequest, Message: "reason"},
			notWant: api.ErrCoordinatorUnavailable},
	}
	for name, tt := range tests {
		got := commandErr(bus.VerbSitePause, tt.err)
		if tt.want != nil && !errors.Is(got, tt.want) {
			t.Errorf("%s: %v is not %v", name, got, tt.want)
		}
		if tt.notWant != nil && errors.Is(got, tt.notWant) {
			t.Errorf("%s: %v is %v", name, got, tt.notWant)
		}
		if tt.wantText != "" && got.Error() != tt.wantText {
			t.Errorf("%s: %q, want %q", name, got, tt.wantText)
		}
		if !errors.Is(got, tt.err) {
			t.Errorf("%s: the cause is lost in %v", name, got)
		}
	}
}

func TestAPIDeliveryErrors(t *testing.T) {
	t.Parallel()
	for cause, want := range map[error]error{
		deliverer.ErrNotFound:               api.ErrNotFound,
		deliverer.ErrNotRetryable:           api.ErrNotRetryable,
		deliverer.ErrTransportNotConfigured: api.ErrTransportNotConfigured,
	} {
		if got := deliveryErr(fmt.Errorf("retry delivery 1: %w", cause)); !errors.Is(got, want) || !errors.Is(got, cause) {
			t.Errorf("%v maps to %v, want %v", cause, got, want)
		}
	}
	if deliveryErr(nil) != nil {
		t.Error("nil is an error")
	}
}

func TestAPITLSNames(t *testing.T) {
	t.Parallel()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		if got := tlsVersion(tls.VersionName(v)); got != v {
			t.Errorf("tlsVersion(%q) = %#x, want %#x", tls.VersionName(v), got, v)
		}
	}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if got := cipherSuite(cs.Name); got != cs.ID {
			t.Errorf("cipherSuite(%q) = %#x, want %#x", cs.Name, got, cs.ID)
		}
	}
	if tlsVersion("") != 0 || tlsVersion("TLS 9") != 0 || cipherSuite("") != 0 || cipherSuite("NOPE") != 0 {
		t.Error("unknown names must be 0")
	}
}

// TestAPITriggerReply decodes a site.trigger reply whose result is a check
// flattened as internal/checkreport (and the coordinator) write it: every
// field the API shows survives the round trip.
func TestAPITriggerReply(t *testing.T) {
	t.Parallel()
	expiry := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	checked := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	want := uptime.Result{BlogID: 7, URL: "https://a.example/", FinalURL: "https://www.a.example/", Method: "GET",
		HTTPCode: 503, ErrorCode: uptime.ErrorKeyword, KeywordRule: uptime.KeywordRule("required"), RedirectChanged: true,
		RTT: 120 * time.Millisecond, DNS: time.Millisecond, TCP: 2 * time.Millisecond, TLS: 3 * time.Millisecond,
		TTFB: 4 * time.Millisecond, TLSVersion: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
		SSLExpiry: &expiry, CheckedAt: checked}
	b, err := json.Marshal(map[string]any{"blog_id": 7, "node_id": "p1", "region": "eu", "closed": 2,
		"result": checkreport.FromResult(want)})
	if err != nil {
		t.Fatal(err)
	}
	var reply triggerReply
	if err := json.Unmarshal(b, &reply); err != nil {
		t.Fatal(err)
	}
	got := reply.result(7)
	if got.NodeID != "p1" || got.Region != "eu" || got.Closed != 2 || !reflect.DeepEqual(got.Result, want) {
		t.Errorf("decoded %+v\nwant result %+v", got, want)
	}
}
