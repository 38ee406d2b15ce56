package deliverystore

import (
	"errors"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Errors, returned wrapped.
var (
	// ErrNotFound: no row has that id.
	ErrNotFound = errors.New("not found")
	// ErrNotRetryable: a manual retry of a delivery that is neither failed
	// nor abandoned.
	ErrNotRetryable = errors.New("delivery not retryable")
)

// Row is one jetmon_deliveries row with its dispatch bookkeeping.
type Row struct {
	uptime.Delivery
	Generation   int
	ClaimedBy    string
	ClaimUntil   time.Time // zero when NULL
	TransitionAt time.Time // zero when NULL
}

// NewDelivery is one row a fan-out inserts.
type NewDelivery struct {
	Kind          uptime.DeliveryKind
	DestinationID int64
	EventType     string
	Severity      *uptime.Severity
	Payload       []byte // JSON
}

// Audit is one jetmon_audit_log row of a fan-out.
type Audit struct {
	EventType string
	Detail    string
	Metadata  map[string]any
}

// FanOut is one transition's fan-out.
type FanOut struct {
	TransitionID int64
	EventID      int64
	BlogID       int64
	TransitionAt time.Time
	Deliveries   []NewDelivery
	Audits       []Audit
	Now          time.Time // the new rows' next_attempt_at
}

// FanOutResult is what a fan-out stored.
type FanOutResult struct {
	Rows []Row // the fan-out's deliveries as stored (new or existing), in its order
	// Created counts, by kind, the rows this call inserted (none of a
	// repeated fan-out's).
	Created map[uptime.DeliveryKind]int
	// Audited reports whether this call wrote the fan-out's audit rows.
	Audited bool
}

// ClaimRequest asks for a delivery's lease.
type ClaimRequest struct {
	DeliveryID int64
	Generation int
	NodeID     string
	Now        time.Time
	Lease      time.Duration
	RateCap    bool // enforce the alert contact's max_per_hour
}

// ClaimOutcome says what a claim did.
type ClaimOutcome int

// Claim outcomes.
const (
	Claimed     ClaimOutcome = iota + 1 // the lease is the caller's; an attempt row is "sending"
	Busy                                // another lease holds it or it is not due; see RetryIn
	Settled                             // no longer pending, or another generation
	RateLimited                         // abandoned: the contact reached max_per_hour
)

// ClaimResult is a claim's outcome.
type ClaimResult struct {
	Outcome   ClaimOutcome
	Row       Row
	AttemptID int64
	RetryIn   time.Duration
}

// Finish records a claimed attempt's outcome.
type Finish struct {
	DeliveryID    int64
	AttemptID     int64
	Generation    int
	NodeID        string
	Outcome       string // delivered, retry, abandoned, deferred
	Status        uptime.DeliveryStatus
	StatusCode    int
	Response      string
	Error         string
	NextAttemptAt time.Time
	Refund        bool
	Now           time.Time
}

// DeadLetter is one jetmon_dead_letters row, with the delivery it
// abandons.
type DeadLetter struct {
	Stream      string
	StreamSeq   uint64
	Consumer    string
	Subject     string
	Deliveries  int
	Reason      string
	Header      map[string][]string
	Payload     []byte
	PublishedAt time.Time
	DeliveryID  int64
	Generation  int
	AbandonNote string
	Now         time.Time
}
