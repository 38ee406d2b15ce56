package transporttest

import (
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// At is the fixed time of every fixture: 2026-03-14T15:09:26.535897932Z,
// t=1773500966 in a signature.
func At() time.Time { return time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC) }

// DownNotice is event 777 of site 123456789 confirmed Down at At, as
// delivery 4242.
func DownNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4242, EventType: "alert.opened", SiteID: 123456789, SiteURL: "https://example.com/shop",
		EventID: 777, TransitionID: 9001, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeveritySeemsDown, Severity: uptime.SeverityDown, State: uptime.StateDown,
		Reason: uptime.ReasonVerifierConfirmed, OccurredAt: At(), DedupKey: "jetmon-event-777",
	}
}

// WarningNotice is DownNotice at Warning, with no reason.
func WarningNotice() uptime.Notice {
	n := DownNotice()
	n.Severity, n.State, n.Reason = uptime.SeverityWarning, uptime.StateWarning, ""
	return n
}

// RecoveryNotice is event 777 resolved 17 minutes after At, as delivery
// 4243.
func RecoveryNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4243, EventType: "alert.closed", Recovery: true, SiteID: 123456789,
		SiteURL: "https://example.com/shop", EventID: 777, TransitionID: 9002, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeverityDown, Severity: uptime.SeverityUp, State: uptime.StateResolved,
		Reason: uptime.ReasonVerifierCleared, OccurredAt: At().Add(17 * time.Minute), DedupKey: "jetmon-event-777",
	}
}

// TestSendNotice is a send-test notice for siteURL at At.
func TestSendNotice(siteURL string) uptime.Notice {
	return uptime.Notice{
		EventType: uptime.EventTest, Test: true, SiteURL: siteURL,
		Severity: uptime.SeverityDown, SeverityBefore: uptime.SeverityDown, State: "Test", Reason: "test_send",
		OccurredAt: At(), DedupKey: "jetmon-test-0-1773500966",
	}
}
