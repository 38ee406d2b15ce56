package incident_test

import (
	"crypto/tls"
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/incident"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// only returns the one change of rn with op and check type.
func only(t *testing.T, rn *runner, op uptime.Op, checkType string) uptime.Change {
	t.Helper()
	var found []uptime.Change
	for _, c := range rn.changes {
		if c.Op == op && c.Event.CheckType == checkType {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s changes of %s, want 1", len(found), op, checkType)
	}
	return found[0]
}

func wantMeta(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s metadata:\n got %#v\nwant %#v", what, got, want)
	}
}

func openedMeta(m int) map[string]any {
	return map[string]any{"http_code": 503, "error_code": 0, "rtt_ms": int64(120), "url": "https://example.com/",
		"method": "GET", "keyword_rule": "", "region": "us-east", "checked_at": at(m).Format(time.RFC3339Nano)}
}

func TestOpenedAndClearedMetadata(t *testing.T) {
	t.Parallel()
	rn := newRunner(t, incident.DefaultPolicy(), uptime.Site{})
	rn.run(fail(0, 1), fail(1, 2), ok(2))
	opened := only(t, rn, uptime.OpOpen, uptime.CheckTypeHTTP)
	if !opened.Event.StartedAt.Equal(at(0)) || !opened.Transition.ChangedAt.Equal(at(0).Add(ingestDelay)) {
		t.Errorf("opened: started %v changed %v, want the first failure's check time and its decision time",
			opened.Event.StartedAt, opened.Transition.ChangedAt)
	}
	wantMeta(t, "opened event", opened.Event.Metadata, openedMeta(0))
	wantMeta(t, "opened transition", opened.Transition.Metadata, openedMeta(0))
	closed := only(t, rn, uptime.OpClose, uptime.CheckTypeHTTP)
	if !closed.Event.StartedAt.Equal(at(0)) || !closed.Event.EndedAt.Equal(at(2).Add(ingestDelay)) ||
		closed.Event.ResolutionReason != uptime.ReasonProbeCleared {
		t.Errorf("closed event %+v: want started at minute 0, ended at the success's decision", closed.Event)
	}
	want := openedMeta(2)
	want["http_code"] = 200
	wantMeta(t, "probe_cleared transition", closed.Transition.Metadata, want)
}

func TestConfirmationMetadata(t *testing.T) {
	t.Parallel()
	p := incident.DefaultPolicy()
	p.PeerOfflineLimit = 1
	rn := newRunner(t, p, uptime.Site{})
	eu := confirm("eu")
	eu.DNS, eu.TCP, eu.TLS, eu.TTFB, eu.CheckedAt = 5*time.Millisecond, 10*time.Millisecond, 20*time.Millisecond,
		30*time.Millisecond, at(3)
	eu.ErrorCode = uptime.ErrorTimeout
	rn.run(fail(0, 1), fail(1, 2), fail(2, 3), verify(3, eu, disagree("ap")))

	req, isReq := rn.effects[0].(incident.RequestVerification)
	if !isReq || req.BlogID != blog || !req.StartedAt.Equal(at(0)) || req.Result.Failures != 3 ||
		!req.Result.CheckedAt.Equal(at(2)) {
		t.Errorf("effect %+v: want a request about the event started at minute 0, from the third failure", rn.effects[0])
	}
	c := only(t, rn, uptime.OpUpdate, uptime.CheckTypeHTTP)
	wantMeta(t, "verifier_confirmed transition", c.Transition.Metadata, map[string]any{
		incident.MetaVotes: []map[string]any{
			{"region": "eu", "node_id": "eu-v1", "up": false, "http_code": 503, "error_code": 1, "rtt_ms": int64(80),
				"dns_ms": int64(5), "tcp_ms": int64(10), "tls_ms": int64(20), "ttfb_ms": int64(30),
				"checked_at": at(3).Format(time.RFC3339Nano)},
			{"region": "ap", "node_id": "ap-v1", "up": true, "http_code": 200, "error_code": 0, "rtt_ms": int64(90),
				"dns_ms": int64(0), "tcp_ms": int64(0), "tls_ms": int64(0), "ttfb_ms": int64(0)},
		},
		"verifier_quorum": 1, "verifier_responders": 2, "verifier_confirmed": 1, "verifier_disagreed": 1,
	})
	want := openedMeta(0)
	want[incident.MetaDownNotified] = true
	wantMeta(t, "Down event", c.Event.Metadata, want)
	if !c.Event.StartedAt.Equal(at(0)) || !c.Transition.ChangedAt.Equal(at(3)) {
		t.Errorf("Down event started %v changed %v: started_at must not move, changed_at is now",
			c.Event.StartedAt, c.Transition.ChangedAt)
	}
	if !rn.s.DownNotified || !rn.s.LastDownNotifiedAt.Equal(at(3)) || rn.s.Confirming.InFlight() {
		t.Errorf("state after a notified down: %+v", rn.s)
	}
}

func TestFalseAlarmRecordsFalsePositive(t *testing.T) {
	t.Parallel()
	rn := newRunner(t, incident.DefaultPolicy(), uptime.Site{})
	rn.run(fail(0, 1), fail(1, 2), fail(2, 3), verify(3, confirm("eu"), disagree("ap"), disagree("sa")))
	c := only(t, rn, uptime.OpClose, uptime.CheckTypeHTTP)
	votes, _ := c.Transition.Metadata[incident.MetaVotes].([]map[string]any)
	counts := map[string]any{}
	for _, k := range []string{"verifier_quorum", "verifier_responders", "verifier_confirmed", "verifier_disagreed"} {
		counts[k] = c.Transition.Metadata[k]
	}
	if len(votes) != 3 {
		t.Errorf("false_alarm carries %d votes, want 3", len(votes))
	}
	wantMeta(t, "false_alarm counts", counts, map[string]any{"verifier_quorum": 3, "verifier_responders": 3,
		"verifier_confirmed": 1, "verifier_disagreed": 2})
	want := incident.RecordFalsePositive{FalsePositive: uptime.FalsePositive{BlogID: blog, HTTPCode: 503,
		ErrorCode: uptime.ErrorNone, RTT: 120 * time.Millisecond, At: at(3)}}
	if len(rn.effects) != 2 || !reflect.DeepEqual(rn.effects[1], want) {
		t.Errorf("effects %+v, want the request then %+v", rn.effects, want)
	}
}

func TestLocalConfirmationMetadata(t *testing.T) {
	t.Parallel()
	p := incident.DefaultPolicy()
	p.HaveVerifiers = false
	rn := newRunner(t, p, uptime.Site{})
	rn.run(fail(0, 1), fail(1, 2), fail(2, 3))
	c := only(t, rn, uptime.OpUpdate, uptime.CheckTypeHTTP)
	wantMeta(t, "local verifier_confirmed", c.Transition.Metadata, map[string]any{
		incident.MetaVotes: []map[string]any{}, "verifier_quorum": 0, "verifier_responders": 0,
		"verifier_confirmed": 0, "verifier_disagreed": 0, "confirmation": "local", "local_failures": 3,
	})
	if len(rn.effects) != 0 {
		t.Errorf("local confirmation asked verifliers: %+v", rn.effects)
	}
}

func TestAdvisoryMetadata(t *testing.T) {
	t.Parallel()
	rn := newRunner(t, incident.DefaultPolicy(), uptime.Site{})
	rn.run(cert(0, days(20)), cert(60, days(6)+time.Hour), handshake(61, tls.VersionTLS10, tls.TLS_RSA_WITH_AES_128_CBC_SHA))
	opened := only(t, rn, uptime.OpOpen, uptime.CheckTypeTLSExpiry)
	wantMeta(t, "tls_expiry opened", opened.Event.Metadata, map[string]any{"days_until": 20,
		"expires_at": at(0).Add(days(20)).Format(time.RFC3339)})
	moved := only(t, rn, uptime.OpUpdate, uptime.CheckTypeTLSExpiry)
	refreshed := map[string]any{"days_until": 6, "expires_at": at(60).Add(days(6) + time.Hour).Format(time.RFC3339)}
	wantMeta(t, "tls_expiry escalated event", moved.Event.Metadata, refreshed)
	wantMeta(t, "tls_expiry escalation", moved.Transition.Metadata, refreshed)
	if !moved.Event.StartedAt.Equal(at(0)) {
		t.Errorf("escalation moved started_at to %v", moved.Event.StartedAt)
	}
	dep := only(t, rn, uptime.OpOpen, uptime.CheckTypeTLSDeprecated)
	wantMeta(t, "tls_deprecated opened", dep.Event.Metadata, map[string]any{"tls_version": "TLS 1.0",
		"tls_version_code": 0x0301, "cipher_suite": "TLS_RSA_WITH_AES_128_CBC_SHA", "cipher_suite_id": 0x002f})
}

func TestCloseNote(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		note string
		want map[string]any
	}{
		"with a note":    {"maintenance by hand", map[string]any{"note": "maintenance by hand"}},
		"without a note": {"", map[string]any{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rn := newRunner(t, incident.DefaultPolicy(), uptime.Site{})
			rn.run(fail(0, 1), closeCmd(1, incident.CloseInput{Note: tc.note}))
			wantMeta(t, "manual close", only(t, rn, uptime.OpClose, uptime.CheckTypeHTTP).Transition.Metadata, tc.want)
		})
	}
}
