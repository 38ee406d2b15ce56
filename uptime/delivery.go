package uptime

import "time"

// DeliveryKind is what a delivery sends; it names the JetStream job subject
// (jetmon.deliver.<kind>.<destination_id>) and jetmon_deliveries.kind.
type DeliveryKind string

// Delivery kinds.
const (
	DeliveryWebhook DeliveryKind = "webhook" // a registered webhook (destination: jetmon_webhooks.id)
	DeliveryAlert   DeliveryKind = "alert"   // an alert contact (destination: jetmon_alert_contacts.id)
	DeliveryWPCOM   DeliveryKind = "wpcom"   // the legacy WPCOM status-change notification (destination 0)
)

// DeliveryStatus is a jetmon_deliveries row's status.
type DeliveryStatus string

// Delivery statuses. Failed is reserved (Jetmon v2 never wrote it); a
// failure that will be retried stays pending with a next attempt time.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryAbandoned DeliveryStatus = "abandoned"
)

// MaxResponseBytes is how much of a receiver's response a delivery attempt
// records.
const MaxResponseBytes = 2048

// Delivery is one jetmon_deliveries row: one (kind, destination,
// transition), with its frozen payload and the outcome of its last attempt.
type Delivery struct {
	ID            int64
	Kind          DeliveryKind
	DestinationID int64 // 0 for DeliveryWPCOM
	TransitionID  int64
	EventID       int64
	BlogID        int64
	EventType     string    // "event.opened", "alert.closed", "wpcom.status_change", ...
	Severity      *Severity // the transition's severity after (alerts), nil otherwise
	Payload       []byte    // JSON frozen at fan-out
	Status        DeliveryStatus
	Attempt       int // attempts made under the current retry budget
	NextAttemptAt time.Time
	// LastStatusCode is the last attempt's HTTP (or SMTP) status; 0 for a
	// transport error.
	LastStatusCode int
	LastResponse   string // at most MaxResponseBytes of valid UTF-8
	LastAttemptAt  time.Time
	DeliveredAt    time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DeliveryAttempt is one jetmon_delivery_attempts row: the history a manual
// retry keeps.
type DeliveryAttempt struct {
	ID            int64
	DeliveryID    int64
	Attempt       int
	NodeID        string
	Outcome       string // "delivered", "retry", "abandoned", "rate_limited", "deferred", "sending" (in flight or lost)
	StatusCode    int
	Response      string // at most MaxResponseBytes
	Error         string
	NextAttemptAt time.Time // when the next attempt is due (retry only)
	StartedAt     time.Time
	FinishedAt    time.Time
}

// Webhook is one jetmon_webhooks row. Secret and PreviousSecret are loaded
// only for signing; API responses never carry them (except the secret once,
// on create and rotate).
type Webhook struct {
	ID     int64
	URL    string
	Active bool
	// Events, SiteIDs and States are allow-lists; empty matches everything.
	Events  []string // webhook event types (WebhookEventType)
	SiteIDs []int64
	States  []State // the transition's state_after
	Secret  string  // "whsec_..."
	// SecretPreview is the last 4 characters of Secret.
	SecretPreview string
	// PreviousSecret stays valid until PreviousSecretExpiresAt (a rotation's
	// grace window): deliveries carry a v1= signature for each valid secret.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	OwnerTenantID           string
	CreatedBy               string
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// AlertTransport is how an alert contact is reached.
type AlertTransport string

// Alert transports.
const (
	TransportEmail     AlertTransport = "email"     // destination {"address"}
	TransportPagerDuty AlertTransport = "pagerduty" // destination {"integration_key"}
	TransportSlack     AlertTransport = "slack"     // destination {"webhook_url"}
	TransportTeams     AlertTransport = "teams"     // destination {"webhook_url"}
)

// AlertContact is one jetmon_alert_contacts row. Destination is loaded only
// for sending; API responses carry DestinationPreview.
type AlertContact struct {
	ID                 int64
	Label              string
	Active             bool
	Transport          AlertTransport
	Destination        map[string]string
	DestinationPreview string   // last 4 characters of the destination value
	SiteIDs            []int64  // empty: every site
	MinSeverity        Severity // default SeverityDown
	MaxPerHour         int      // 0: unlimited; enforced across every deliverer node
	OwnerTenantID      string
	CreatedBy          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Webhook event types (X-Jetmon-Event and the webhook payload's "type").
const (
	EventOpened          = "event.opened"
	EventSeverityChanged = "event.severity_changed"
	EventStateChanged    = "event.state_changed"
	EventCauseLinked     = "event.cause_linked"
	EventCauseUnlinked   = "event.cause_unlinked"
	EventClosed          = "event.closed"
	EventTest            = "event.test"
)

// WebhookEventTypes lists the types a webhook may subscribe to.
func WebhookEventTypes() []string {
	return []string{EventOpened, EventSeverityChanged, EventStateChanged, EventCauseLinked, EventCauseUnlinked, EventClosed}
}

// WebhookEventType maps a transition reason to its webhook event type, as
// Jetmon v2; ok is false for a reason that produces no webhook.
func WebhookEventType(r Reason) (eventType string, ok bool) {
	switch r {
	case ReasonOpened:
		return EventOpened, true
	case ReasonSeverityEscalation, ReasonSeverityDeescalation:
		return EventSeverityChanged, true
	case ReasonStateChange, ReasonVerifierConfirmed:
		return EventStateChanged, true
	case ReasonCauseLinked:
		return EventCauseLinked, true
	case ReasonCauseUnlinked:
		return EventCauseUnlinked, true
	case ReasonVerifierCleared, ReasonProbeCleared, ReasonFalseAlarm, ReasonManualOverride,
		ReasonMaintenanceSwallowed, ReasonSuperseded, ReasonAutoTimeout:
		return EventClosed, true
	default:
		return "", false
	}
}

// AlertEventType maps a transition reason to its alert event type
// ("alert.opened", ...); cause links produce no alert.
func AlertEventType(r Reason) (eventType string, ok bool) {
	t, ok := WebhookEventType(r)
	if !ok || t == EventCauseLinked || t == EventCauseUnlinked {
		return "", false
	}
	return "alert." + t[len("event."):], true
}
