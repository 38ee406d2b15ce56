package uptime

import (
	"fmt"
	"time"
)

// Notice is what an alert transport (email, PagerDuty, Slack, Teams)
// renders: one transition of one event, or a test send.
type Notice struct {
	DeliveryID     int64  // 0 for a test send
	EventType      string // AlertEventType of the reason, or EventTest
	Test           bool   // a send-test from the API: no incident behind it
	Recovery       bool   // the event ended (state Resolved) after reaching the contact's severity
	SiteID         int64
	SiteURL        string
	EventID        int64
	TransitionID   int64
	CheckType      string
	SeverityBefore Severity // Up when the transition opened the event
	Severity       Severity // Up when the transition closed the event
	State          State    // state after the transition
	Reason         Reason
	OccurredAt     time.Time // the transition's changed_at
	Votes          []Vote    // the confirmation's veriflier votes, when it decided one
	// DedupKey groups a trigger and its resolve at receivers that dedupe
	// (PagerDuty): "jetmon-event-<event_id>", or a unique key for tests.
	DedupKey string
}

// SeverityName is the API's name of a severity: "Up", "Warning",
// "Degraded", "SeemsDown" (no space, unlike the state) and "Down".
func SeverityName(s Severity) string {
	switch s {
	case SeverityUp:
		return "Up"
	case SeverityWarning:
		return "Warning"
	case SeverityDegraded:
		return "Degraded"
	case SeveritySeemsDown:
		return "SeemsDown"
	case SeverityDown:
		return "Down"
	default:
		return fmt.Sprintf("Severity%d", uint8(s))
	}
}

// ParseSeverityName is the inverse of SeverityName for the five names.
func ParseSeverityName(name string) (Severity, error) {
	for s := SeverityUp; s <= SeverityDown; s++ {
		if SeverityName(s) == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("severity %q: must be one of Up, Warning, Degraded, SeemsDown, Down", name)
}

// SendResult is what a receiver answered: its status (HTTP, or SMTP for
// email; 0 when nothing answered) and at most MaxResponseBytes of its
// response.
type SendResult struct {
	StatusCode int
	Response   string
}

// PermanentError marks a send that can never succeed as configured (a
// destination without its address, a URL that does not parse): the delivery
// is abandoned at once instead of walking the retry schedule. Any other
// error from a transport is retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// DeferredError means the transport did not try at all (its circuit breaker
// is open): the delivery waits RetryAfter and is tried again without using
// an attempt of its retry budget.
type DeferredError struct {
	RetryAfter time.Duration
	Reason     string
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("deferred %v: %s", e.RetryAfter, e.Reason)
}

// WPCOM status ids of the legacy status-change notification (Jetmon v1's
// site_status values). Seems Down (0) is never sent.
const (
	WPCOMStatusRunning       = 1
	WPCOMStatusConfirmedDown = 2
)

// WPCOM check types of a status change's checks[] entries.
const (
	WPCOMCheckLocal     = 1
	WPCOMCheckVeriflier = 2
)

// StatusChange is the legacy WPCOM status-change notification (reference
// jetmon-core-spec §2.12), v1's shape kept unchanged on the wire.
type StatusChange struct {
	BlogID           int64
	MonitorURL       string
	StatusID         int       // WPCOMStatusRunning or WPCOMStatusConfirmedDown
	StatusType       string    // Result.StatusType of the local check ("success" on recovery)
	LastCheck        time.Time // the local check's time
	LastStatusChange time.Time // the transition's changed_at
	Checks           []StatusCheck
}

// StatusCheck is one checks[] entry: the local check or a veriflier's vote.
type StatusCheck struct {
	Type   int    // WPCOMCheckLocal or WPCOMCheckVeriflier
	Host   string // the prober or veriflier node (region/node_id)
	Status int    // 1 ok, 0 failed
	RTT    time.Duration
	Code   int // HTTP status
}
