package teams_test

import (
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func downNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4242, EventType: "alert.opened", SiteID: 123456789, SiteURL: "https://example.com/shop",
		EventID: 777, TransitionID: 9001, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeveritySeemsDown, Severity: uptime.SeverityDown, State: uptime.StateDown,
		Reason: uptime.ReasonVerifierConfirmed, OccurredAt: at(), DedupKey: "jetmon-event-777",
	}
}

func recoveryNotice() uptime.Notice {
	return uptime.Notice{
		DeliveryID: 4243, EventType: "alert.closed", Recovery: true, SiteID: 123456789,
		SiteURL: "https://example.com/shop", EventID: 777, TransitionID: 9002, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: uptime.SeverityDown, Severity: uptime.SeverityUp, State: uptime.StateResolved,
		Reason: uptime.ReasonVerifierCleared, OccurredAt: at().Add(17 * time.Minute), DedupKey: "jetmon-event-777",
	}
}

func testNotice() uptime.Notice {
	return uptime.Notice{
		EventType: uptime.EventTest, Test: true, SiteURL: "https://test.invalid/ops-teams",
		Severity: uptime.SeverityDown, SeverityBefore: uptime.SeverityDown, State: "Test", Reason: "test_send",
		OccurredAt: at(), DedupKey: "jetmon-test-0-1773500966",
	}
}
