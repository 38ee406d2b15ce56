package deliverer

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func payloadFor(t *testing.T, m TransitionMessage, eventType string) Payload {
	t.Helper()
	b, err := BuildPayload(m, eventType)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePayload(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNoticeOf(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		m        TransitionMessage
		min      uptime.Severity
		eventTyp string
		check    func(t *testing.T, n uptime.Notice)
	}{
		"confirmed down": {downTransition(), uptime.SeverityDown, "alert.state_changed", func(t *testing.T, n uptime.Notice) {
			want := uptime.Notice{DeliveryID: 5, EventType: "alert.state_changed", SiteID: 123456789,
				SiteURL: "https://example.com/shop", EventID: 77, TransitionID: 9001, CheckType: "http",
				SeverityBefore: uptime.SeveritySeemsDown, Severity: uptime.SeverityDown, State: uptime.StateDown,
				Reason: uptime.ReasonVerifierConfirmed, OccurredAt: fixtureTime, DedupKey: "jetmon-event-77"}
			votes := n.Votes
			n.Votes = nil
			if !reflect.DeepEqual(n, want) {
				t.Errorf("notice = %+v\nwant     %+v", n, want)
			}
			if len(votes) != 2 || votes[0].RTT != 412*time.Millisecond || votes[1].ErrorCode != uptime.ErrorConnect {
				t.Errorf("votes = %+v", votes)
			}
		}},
		"recovery for a contact at the event's severity": {recoveryTransition(), uptime.SeverityDown, "alert.closed", func(t *testing.T, n uptime.Notice) {
			if !n.Recovery || n.Severity != uptime.SeverityUp || n.State != uptime.StateResolved {
				t.Errorf("notice = %+v", n)
			}
		}},
		"close below the contact's severity is no recovery": {func() TransitionMessage {
			m := recoveryTransition()
			m.Transition.SeverityBefore = sev(uptime.SeverityWarning)
			return m
		}(), uptime.SeverityDown, "alert.closed", func(t *testing.T, n uptime.Notice) {
			if n.Recovery {
				t.Errorf("notice = %+v", n)
			}
		}},
		"site without url": {func() TransitionMessage {
			m := downTransition()
			m.Site.Spec.URL = ""
			return m
		}(), uptime.SeverityDown, "alert.state_changed", func(t *testing.T, n uptime.Notice) {
			if n.SiteURL != "site:123456789" {
				t.Errorf("site url = %q", n.SiteURL)
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := payloadFor(t, tc.m, tc.eventTyp)
			n, err := noticeOf(uptime.Delivery{ID: 5}, p, uptime.AlertContact{MinSeverity: tc.min})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, n)
		})
	}
}

func TestTestNotice(t *testing.T) {
	t.Parallel()
	c := uptime.AlertContact{ID: 3, Label: "ops", MinSeverity: uptime.SeverityDegraded}
	a, b := testNotice(c, fixtureTime), testNotice(c, fixtureTime.Add(time.Nanosecond))
	if !a.Test || a.EventType != uptime.EventTest || a.Severity != uptime.SeverityDegraded ||
		a.SiteURL != "https://test.invalid/ops" || a.DeliveryID != 0 {
		t.Errorf("test notice = %+v", a)
	}
	if a.DedupKey == b.DedupKey || !strings.HasPrefix(a.DedupKey, "jetmon-test-3-") {
		t.Errorf("dedup keys %q and %q must be unique", a.DedupKey, b.DedupKey)
	}
}

func TestStatusChangeOf(t *testing.T) {
	t.Parallel()
	firstFailure := fixtureTime.Add(-2 * time.Minute)
	tests := map[string]struct {
		m       TransitionMessage
		want    uptime.StatusChange
		wantErr bool
	}{
		"confirmed down: local check and each vote": {m: downTransition(), want: uptime.StatusChange{
			BlogID: 123456789, MonitorURL: "https://example.com/shop", StatusID: uptime.WPCOMStatusConfirmedDown,
			StatusType: "server", LastCheck: firstFailure, LastStatusChange: fixtureTime,
			Checks: []uptime.StatusCheck{
				{Type: uptime.WPCOMCheckLocal, Host: "us-east", Status: 0, RTT: 412 * time.Millisecond, Code: 503},
				{Type: uptime.WPCOMCheckVeriflier, Host: "eu-west/veriflier-eu-1", Status: 0, RTT: 412 * time.Millisecond, Code: 503},
				{Type: uptime.WPCOMCheckVeriflier, Host: "ap-south/veriflier-ap-1", Status: 0, RTT: 120 * time.Millisecond},
			},
		}},
		"recovery": {m: recoveryTransition(), want: uptime.StatusChange{
			BlogID: 123456789, MonitorURL: "https://example.com/shop", StatusID: uptime.WPCOMStatusRunning,
			StatusType: "success", LastCheck: fixtureTime.Add(10 * time.Minute),
			LastStatusChange: fixtureTime.Add(10 * time.Minute),
			Checks: []uptime.StatusCheck{
				{Type: uptime.WPCOMCheckLocal, Host: "us-east", Status: 1, RTT: 88 * time.Millisecond, Code: 200},
			},
		}},
		"Seems Down is no status change": {m: openTransition(), wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := statusChangeOf(payloadFor(t, tc.m, EventWPCOMStatusChange))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("status change = %+v\nwant            %+v", got, tc.want)
			}
		})
	}
}
