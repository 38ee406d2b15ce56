package deliverer

import (
	"context"
	"errors"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The deliverer's ports: what it consumes, declared here and satisfied by
// adapters the wiring (internal/jetmoncmd) hands to New and NewOps: the
// JetStream work queues and publisher (internal/bus) and the MySQL store
// (internal/deliverystore). MySQL's rows are the truth; JetStream carries
// ids and timing.

// Errors of the stores, returned wrapped. The API maps ErrNotFound to 404,
// ErrNotRetryable to 409 and ErrTransportNotConfigured to 503.
var (
	// ErrNotFound: no delivery, webhook or alert contact has that id.
	ErrNotFound = errors.New("not found")
	// ErrNotRetryable: a manual retry of a delivery that is neither failed
	// nor abandoned.
	ErrNotRetryable = errors.New("delivery not retryable")
	// ErrTransportNotConfigured: this process has no sender for the alert
	// contact's transport.
	ErrTransportNotConfigured = errors.New("transport not configured")
)

// Message is one JetStream message of a work queue, as a handler gets it.
// Ack, Nak, Term and Progress are the message's own acknowledgements (the
// adapter maps them to DoubleAck, NakWithDelay, TermWithReason and
// InProgress). On the work-queue stream Ack and Term delete the message.
type Message struct {
	Stream      string // JETMON_DELIVERY
	Consumer    string // the durable consumer that delivered it
	Subject     string
	Data        []byte
	Header      map[string][]string
	StreamSeq   uint64    // stable across redeliveries
	Delivered   int       // how many times the server delivered it, this time included
	PublishedAt time.Time // when the stream stored it

	Ack      func(ctx context.Context) error
	Nak      func(ctx context.Context, delay time.Duration) error
	Term     func(ctx context.Context, reason string) error
	Progress func(ctx context.Context) error
}

// Handler handles one message and settles it (Ack, Nak or Term); a message
// it leaves unsettled is redelivered after the consumer's AckWait.
type Handler func(ctx context.Context, m Message)

// Queue is one durable pull consumer of JETMON_DELIVERY (fanout, webhook,
// alert or wpcom), shared by every deliverer.
type Queue interface {
	// Consume runs handle for each message with a bounded number of
	// workers until ctx ends, resuming after the server closed the
	// consumer; it returns nil after ctx ended and every running handle
	// returned.
	Consume(ctx context.Context, handle Handler) error
}

// Job is one delivery's work item on jetmon.deliver.<kind>.<destination_id>.
// It carries ids only: the jetmon_deliveries row is the truth. Generation
// counts manual retries and is part of the message id, so a retried
// delivery is not swallowed by the stream's duplicate window.
type Job struct {
	DeliveryID    int64
	Kind          uptime.DeliveryKind
	DestinationID int64
	TransitionID  int64
	Generation    int
}

// JobPublisher stores jobs on JETMON_DELIVERY.
type JobPublisher interface {
	// PublishJob returns once the server stored j; a duplicate of a job
	// stored within the duplicate window (same delivery and generation) is
	// success.
	PublishJob(ctx context.Context, j Job) error
}

// QueueBacklog is one consumer's backlog as the server reports it.
type QueueBacklog struct {
	Consumer    string
	Pending     uint64 // stored, not yet delivered
	AckPending  uint64 // delivered and not yet settled: in flight or waiting for a delayed retry
	Redelivered uint64 // delivered more than once and not yet settled
}

// Backlog reads the delivery consumers' backlogs (for the metrics).
type Backlog interface {
	Backlog(ctx context.Context) ([]QueueBacklog, error)
}

// DeadLetter is a JETMON_DELIVERY message that ran out of deliveries (the
// server's max-deliveries advisory), with the original message when it was
// still in the stream (Data nil otherwise).
type DeadLetter struct {
	Stream     string
	Consumer   string
	Subject    string
	StreamSeq  uint64
	Deliveries int
	Reason     string
	Data       []byte
	Header     map[string][]string
	At         time.Time // when the original was stored
}

// DeadLetterSource delivers dead letters until ctx ends. After handle
// returns nil the original leaves JETMON_DELIVERY; an error makes the
// source offer the dead letter again later.
type DeadLetterSource interface {
	Run(ctx context.Context, handle func(ctx context.Context, dl DeadLetter) error) error
}

// TransitionMessage is one committed incident transition as the
// coordinator's outbox relay publishes it (the adapter decodes
// jetmon.deliver.transition messages into it).
type TransitionMessage struct {
	Transition uptime.Transition // with the notification decision in Notify
	Event      uptime.Event      // the event right after the transition
	Site       uptime.Site       // BlogID, Bucket, Spec.URL and the maintenance window
	Votes      []uptime.Vote     // of the confirmation this transition decided, if any
}

// Destinations reads the candidates of a fan-out.
type Destinations interface {
	// ActiveWebhooks returns every active webhook with its secrets.
	ActiveWebhooks(ctx context.Context) ([]uptime.Webhook, error)
	// ActiveAlertContacts returns every active alert contact with its
	// destination.
	ActiveAlertContacts(ctx context.Context) ([]uptime.AlertContact, error)
	// SiteTenants returns the gateway tenants blogID belongs to
	// (jetmon_site_tenants): a tenant-owned destination matches only the
	// sites of its tenant.
	SiteTenants(ctx context.Context, blogID int64) ([]string, error)
}

// NewDelivery is one jetmon_deliveries row a fan-out creates.
type NewDelivery struct {
	Kind          uptime.DeliveryKind
	DestinationID int64
	EventType     string
	Severity      *uptime.Severity // the transition's severity after (alerts)
	Payload       []byte
}

// Audit is one jetmon_audit_log row a fan-out writes instead of a
// notification (event types "alert_suppressed" and "maintenance_active").
type Audit struct {
	EventType string
	Detail    string
	Metadata  map[string]any // includes transition_id, kind and destination_id
}

// FanOut is everything one transition's fan-out writes.
type FanOut struct {
	TransitionID int64
	EventID      int64
	BlogID       int64
	// TransitionAt is when the transition reached JetStream, the start of
	// the commit-to-delivered latency.
	TransitionAt time.Time
	Deliveries   []NewDelivery
	Audits       []Audit
	Now          time.Time // the deliveries' first next_attempt_at
}

// FanOutResult is what a fan-out stored.
type FanOutResult struct {
	Rows []Row // f's deliveries as stored (new or existing, with their status and generation), in f's order
	// Created counts, by kind, the rows this fan-out inserted (none of a
	// repeated one's).
	Created map[uptime.DeliveryKind]int
	// Audited reports whether this fan-out wrote f's audit rows.
	Audited bool
}

// FanOutStore writes fan-outs.
type FanOutStore interface {
	// FanOut inserts f's deliveries, each unless its (kind, destination,
	// transition) exists, and f's audit rows unless this transition's were
	// written before, in one transaction, and returns what it stored.
	FanOut(ctx context.Context, f FanOut) (FanOutResult, error)
}

// Row is one jetmon_deliveries row with its dispatch bookkeeping.
type Row struct {
	uptime.Delivery
	Generation   int
	ClaimedBy    string
	ClaimUntil   time.Time // zero when never claimed or released
	TransitionAt time.Time
}

// ClaimRequest asks for a delivery's lease before a send.
type ClaimRequest struct {
	DeliveryID int64
	Generation int
	NodeID     string
	Now        time.Time
	Lease      time.Duration
	// RateCap is set for alert deliveries: the contact's max_per_hour is
	// enforced across every deliverer in the claim's transaction.
	RateCap bool
}

// ClaimOutcome says what a claim did.
type ClaimOutcome int

// Claim outcomes.
const (
	// Claimed: the lease is this node's and an attempt row was inserted as
	// "sending" (Row.Attempt is its number).
	Claimed ClaimOutcome = iota + 1
	// Busy: another deliverer holds the lease, or the next attempt is not
	// due; RetryIn says when to look again.
	Busy
	// Settled: the row is no longer pending, or a manual retry superseded
	// the job's generation: nothing to send.
	Settled
	// RateLimited: the alert contact reached max_per_hour; the row was
	// abandoned (last_status_code 429) and a rate_limited attempt recorded.
	RateLimited
)

// ClaimResult is a claim's outcome.
type ClaimResult struct {
	Outcome   ClaimOutcome
	Row       Row   // the row after the claim
	AttemptID int64 // the attempt row (Claimed, RateLimited)
	RetryIn   time.Duration
}

// Finish records a claimed attempt's outcome.
type Finish struct {
	DeliveryID int64
	AttemptID  int64
	Generation int
	NodeID     string
	Outcome    string                // "delivered", "retry", "abandoned" or "deferred"
	Status     uptime.DeliveryStatus // the row's status afterwards
	StatusCode int
	Response   string // the row's last_response
	Error      string // the attempt's error
	// NextAttemptAt is when a pending row is due again (zero otherwise).
	NextAttemptAt time.Time
	// Refund gives the attempt back to the retry budget (a deferral, an
	// interrupted send, a store error before the send).
	Refund bool
	Now    time.Time
}

// DispatchStore reads and claims delivery rows and records attempts.
type DispatchStore interface {
	// Row returns the delivery, or ErrNotFound.
	Row(ctx context.Context, id int64) (Row, error)
	// Claim takes the delivery's lease with a conditional update that must
	// affect exactly one row (status pending, the job's generation, due,
	// and no unexpired lease), checks an alert contact's rate cap, and
	// inserts the attempt, in one transaction.
	Claim(ctx context.Context, r ClaimRequest) (ClaimResult, error)
	// Finish updates the row and the attempt in one transaction. The row
	// changes only while this node holds the lease, except that a delivered
	// outcome is recorded on any pending row of the generation; owned
	// reports whether the row changed.
	Finish(ctx context.Context, f Finish) (owned bool, err error)
}

// DestinationStore loads a delivery's destination at dispatch.
type DestinationStore interface {
	// Webhook returns the webhook with its secrets, active or not, or
	// ErrNotFound.
	Webhook(ctx context.Context, id int64) (uptime.Webhook, error)
	// AlertContact returns the contact with its destination, active or
	// not, or ErrNotFound.
	AlertContact(ctx context.Context, id int64) (uptime.AlertContact, error)
}

// DeadLetterRecord is one jetmon_dead_letters row.
type DeadLetterRecord struct {
	Stream      string
	StreamSeq   uint64
	Consumer    string
	Subject     string
	Deliveries  int
	Reason      string
	Header      map[string][]string
	Payload     []byte
	PublishedAt time.Time
	// DeliveryID and Generation name the job's delivery (0: not a job, or
	// undecodable). Its row, if still pending at that generation, is
	// abandoned with AbandonNote.
	DeliveryID  int64
	Generation  int
	AbandonNote string
	Now         time.Time
}

// DeadLetterStore records dead letters.
type DeadLetterStore interface {
	// RecordDeadLetter inserts r unless (stream, stream_seq) was recorded
	// before, and abandons its delivery, in one transaction; it reports
	// whether r was new and whether a delivery was abandoned.
	RecordDeadLetter(ctx context.Context, r DeadLetterRecord) (inserted, abandoned bool, err error)
}

// RetryStore resets deliveries for a manual retry.
type RetryStore interface {
	// Retry resets a failed or abandoned delivery to pending (attempt 0,
	// due at now, last_* cleared, generation+1; its attempts are kept) and
	// returns the row before and after. ErrNotFound; ErrNotRetryable for
	// any other status.
	Retry(ctx context.Context, id int64, now time.Time) (before, after Row, err error)
	// UndoRetry restores before's status and last_* (keeping the new
	// generation) when the retry's job could not be published and nothing
	// picked the row up since.
	UndoRetry(ctx context.Context, before Row) error
}
