package deliverer

import (
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Fixtures shared by the package's tests.

var fixtureTime = time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)

func sev(s uptime.Severity) *uptime.Severity { return &s }

// downTransition is a Seems Down confirmed Down with two votes, notified.
func downTransition() TransitionMessage {
	started := fixtureTime.Add(-2 * time.Minute)
	return TransitionMessage{
		Transition: uptime.Transition{
			ID: 9001, EventID: 77, BlogID: 123456789, CheckType: uptime.CheckTypeHTTP,
			SeverityBefore: sev(uptime.SeveritySeemsDown), SeverityAfter: sev(uptime.SeverityDown),
			StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown,
			Reason: uptime.ReasonVerifierConfirmed, Source: "verifier",
			Metadata:  map[string]any{"verifier_confirmed": 2.0, "verifier_quorum": 2.0},
			ChangedAt: fixtureTime,
			Notify:    uptime.Notification{Notify: true, Kind: notifyDown},
		},
		Event: uptime.Event{
			ID: 77, BlogID: 123456789, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown,
			State: uptime.StateDown, StartedAt: started,
			Metadata: map[string]any{
				"http_code": 503.0, "error_code": 0.0, "rtt_ms": 412.0, "url": "https://example.com/shop",
				"region": "us-east", "checked_at": started.Format(time.RFC3339Nano), "down_notified": true,
			},
		},
		Site: uptime.Site{BlogID: 123456789, Bucket: 417, Spec: uptime.CheckSpec{BlogID: 123456789, URL: "https://example.com/shop"}},
		Votes: []uptime.Vote{
			{Region: "eu-west", NodeID: "veriflier-eu-1", HTTPCode: 503, ErrorCode: uptime.ErrorNone,
				RTT: 412 * time.Millisecond, DNS: 12 * time.Millisecond, TCP: 31 * time.Millisecond,
				TLS: 58 * time.Millisecond, TTFB: 300 * time.Millisecond, CheckedAt: fixtureTime.Add(-time.Second)},
			{Region: "ap-south", NodeID: "veriflier-ap-1", HTTPCode: 0, ErrorCode: uptime.ErrorConnect,
				RTT: 120 * time.Millisecond, CheckedAt: fixtureTime.Add(-time.Second)},
		},
	}
}

// recoveryTransition closes downTransition's event (verifier_cleared).
func recoveryTransition() TransitionMessage {
	m := downTransition()
	m.Transition.ID = 9002
	m.Transition.SeverityBefore, m.Transition.SeverityAfter = sev(uptime.SeverityDown), nil
	m.Transition.StateBefore, m.Transition.StateAfter = uptime.StateDown, uptime.StateResolved
	m.Transition.Reason, m.Transition.Source = uptime.ReasonVerifierCleared, "local"
	m.Transition.ChangedAt = fixtureTime.Add(10 * time.Minute)
	m.Transition.Metadata = map[string]any{
		"http_code": 200.0, "error_code": 0.0, "rtt_ms": 88.0, "region": "us-east",
		"checked_at": fixtureTime.Add(10 * time.Minute).Format(time.RFC3339Nano),
	}
	m.Transition.Notify = uptime.Notification{Notify: true, Kind: notifyRecovery}
	m.Event.State, m.Event.Severity = uptime.StateResolved, uptime.SeverityDown
	m.Event.EndedAt, m.Event.ResolutionReason = m.Transition.ChangedAt, uptime.ReasonVerifierCleared
	m.Votes = nil
	return m
}

// openTransition opens a Seems Down event (no notification decision).
func openTransition() TransitionMessage {
	m := downTransition()
	m.Transition.ID = 9000
	m.Transition.SeverityBefore, m.Transition.SeverityAfter = nil, sev(uptime.SeveritySeemsDown)
	m.Transition.StateBefore, m.Transition.StateAfter = "", uptime.StateSeemsDown
	m.Transition.Reason, m.Transition.Source = uptime.ReasonOpened, "local"
	m.Transition.Notify = uptime.Notification{}
	m.Transition.Metadata = nil
	m.Event.State, m.Event.Severity = uptime.StateSeemsDown, uptime.SeveritySeemsDown
	m.Votes = nil
	return m
}
