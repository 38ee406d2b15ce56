package deliverer

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Notification kinds of the coordinator's decision (uptime.Notification.Kind).
const (
	notifyDown     = "down"
	notifyRecovery = "recovery"
)

// Test sends' synthetic values (reference §12.5).
const (
	testState  uptime.State  = "Test"
	testReason uptime.Reason = "test_send"
)

// noticeOf renders an alert delivery's notice from its frozen payload for
// contact c: a recovery when the change recovers for c's minimum severity.
func noticeOf(d uptime.Delivery, p Payload, c uptime.AlertContact) (uptime.Notice, error) {
	before, err := severity(p.Transition.SeverityBefore)
	if err != nil {
		return uptime.Notice{}, err
	}
	after, err := severity(p.Transition.SeverityAfter)
	if err != nil {
		return uptime.Notice{}, err
	}
	n := uptime.Notice{
		DeliveryID: d.ID, EventType: p.Type,
		Recovery: recovers(c.MinSeverity, before, after),
		SiteID:   p.Site.ID, SiteURL: p.siteURL(), EventID: p.Event.ID, TransitionID: p.Transition.ID,
		CheckType: p.Event.CheckType, SeverityBefore: before, Severity: after,
		State: uptime.State(p.Transition.StateAfter), Reason: uptime.Reason(p.Transition.Reason),
		OccurredAt: p.OccurredAt, DedupKey: "jetmon-event-" + strconv.FormatInt(p.Event.ID, 10),
	}
	for _, v := range p.Votes {
		n.Votes = append(n.Votes, uptime.Vote{
			Region: v.Region, NodeID: v.NodeID, Up: v.Up, HTTPCode: v.HTTPCode,
			ErrorCode: uptime.ErrorCode(v.ErrorCode), RTT: millis(v.RTTMs), DNS: millis(v.DNSMs),
			TCP: millis(v.TCPMs), TLS: millis(v.TLSMs), TTFB: millis(v.TTFBMs), CheckedAt: v.CheckedAt,
		})
	}
	return n, nil
}

// testNotice is a send-test's synthetic notice for contact c (reference
// §12.5): the contact's minimum severity, a unique dedup key.
func testNotice(c uptime.AlertContact, now time.Time) uptime.Notice {
	return uptime.Notice{
		EventType: uptime.EventTest, Test: true,
		SiteURL:  "https://test.invalid/" + c.Label,
		Severity: c.MinSeverity, State: testState, Reason: testReason, OccurredAt: now.UTC(),
		DedupKey: fmt.Sprintf("jetmon-test-%d-%d", c.ID, now.UnixNano()),
	}
}

// statusChangeOf renders a WPCOM delivery's legacy status change from its
// frozen payload: confirmed down (2) or running (1), the local check and
// one checks[] entry per veriflier vote.
func statusChangeOf(p Payload) (uptime.StatusChange, error) {
	c := uptime.StatusChange{BlogID: p.Site.ID, MonitorURL: p.Site.URL, LastStatusChange: p.OccurredAt}
	switch p.Notification.Kind {
	case notifyDown:
		c.StatusID, c.StatusType = uptime.WPCOMStatusConfirmedDown, "intermittent"
	case notifyRecovery:
		c.StatusID, c.StatusType = uptime.WPCOMStatusRunning, "success"
	default:
		return uptime.StatusChange{}, fmt.Errorf("payload: notification kind %q is no WPCOM status change", p.Notification.Kind)
	}
	c.LastCheck = p.OccurredAt
	if lc := p.Check; lc != nil {
		if c.StatusID == uptime.WPCOMStatusConfirmedDown {
			c.StatusType = lc.StatusType
		}
		if lc.CheckedAt != nil {
			c.LastCheck = *lc.CheckedAt
		}
		c.Checks = append(c.Checks, uptime.StatusCheck{Type: uptime.WPCOMCheckLocal, Host: lc.Region,
			Status: okStatus(c.StatusID == uptime.WPCOMStatusRunning), RTT: millis(lc.RTTMs), Code: lc.HTTPCode})
	}
	for _, v := range p.Votes {
		c.Checks = append(c.Checks, uptime.StatusCheck{Type: uptime.WPCOMCheckVeriflier, Host: v.Region + "/" + v.NodeID,
			Status: okStatus(v.Up), RTT: millis(v.RTTMs), Code: v.HTTPCode})
	}
	return c, nil
}

// okStatus is a checks[] status: 1 ok, 0 failed.
func okStatus(ok bool) int {
	if ok {
		return 1
	}
	return 0
}

func millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
