package uptime

import "time"

// Event is one incident: open while EndedAt is zero. At most one event is
// open per identity (BlogID, CheckType) — endpoint and discriminator are
// reserved and always empty in the mesh today.
type Event struct {
	ID               int64 // assigned by the store; 0 before the first commit
	BlogID           int64
	CheckType        string // CheckTypeHTTP, CheckTypeTLSExpiry, CheckTypeTLSDeprecated
	Severity         Severity
	State            State
	StartedAt        time.Time // the first local failure; never moves
	EndedAt          time.Time
	ResolutionReason Reason
	Metadata         map[string]any
}

// Open reports whether the event has not been closed.
func (e Event) Open() bool { return e.EndedAt.IsZero() }

// Op is what a Change does to an event.
type Op string

// Change operations.
const (
	OpOpen   Op = "open"   // insert a new open event
	OpUpdate Op = "update" // severity and/or state (and metadata) of the open event change
	OpClose  Op = "close"  // the open event ends with Transition.Reason
)

// Change is one mutation of incident state: exactly one transition row. The
// store finds the open event by its identity (BlogID, CheckType), so changes
// need no event ids and several can apply to one identity within a batch
// (e.g. close, then open a new one).
type Change struct {
	Op         Op
	Event      Event      // the event after the change (identity, severity, state, started_at, metadata)
	Transition Transition // the history row
}

// Transition is one row of an event's append-only history.
type Transition struct {
	ID             int64 // assigned by the store
	EventID        int64 // assigned by the store
	BlogID         int64
	CheckType      string
	SeverityBefore *Severity // nil on open
	SeverityAfter  *Severity // nil on close
	StateBefore    State     // "" on open
	StateAfter     State     // StateResolved on close
	Reason         Reason
	Source         string // "local", "veriflier:<region>", "operator:<actor>", "system:<reason>"
	Metadata       map[string]any
	ChangedAt      time.Time
	Notify         Notification // what the deliverers should do with it
}

// Notification is the decision, taken with the transition, about telling
// people: deliverers honour it and never recompute it.
type Notification struct {
	Notify     bool   // send notifications for this transition
	Suppressed string // why not: "maintenance", "cooldown", "advisory", "not_notified_down", ... ("" when Notify)
	Kind       string // "down", "recovery", "advisory", "" (no notification meaning)
}

// Vote is one veriflier's answer to a confirmation request.
type Vote struct {
	Region    string
	NodeID    string
	Up        bool // the site answered successfully from there
	HTTPCode  int
	ErrorCode ErrorCode
	RTT       time.Duration
	DNS       time.Duration
	TCP       time.Duration
	TLS       time.Duration
	TTFB      time.Duration
	CheckedAt time.Time
}

// FalsePositive is a jetmon_false_positives row: a local failure the
// verifliers did not confirm.
type FalsePositive struct {
	BlogID    int64
	EventID   int64 // filled by the store from the closed event
	HTTPCode  int
	ErrorCode ErrorCode
	RTT       time.Duration
	At        time.Time
}
