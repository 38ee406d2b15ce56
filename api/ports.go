package api

import (
	"context"
	"errors"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The API's ports: what it consumes, declared here and satisfied by
// adapters the wiring (internal/jetmoncmd) hands to New. Stores return
// ErrNotFound and ErrConflict (wrapped is fine) for the cases the handlers
// map to 404 and 409; any other error is a 500 db_error.

// Store errors.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// ErrCoordinatorUnavailable is returned by a Coordinator when no leader
// answered: the API answers 503 coordinator_unavailable and has changed
// nothing.
var ErrCoordinatorUnavailable = errors.New("coordinator unavailable")

// ErrTransportNotConfigured is returned by a DeliveryOps send-test when this
// process has no sender for the contact's transport (503).
var ErrTransportNotConfigured = errors.New("transport not configured")

// ErrNotRetryable is returned by DeliveryOps.Retry for a delivery that is
// not failed or abandoned (409 delivery_not_retryable).
var ErrNotRetryable = errors.New("delivery not retryable")

// Tenant scopes a call to a gateway tenant: empty means unscoped (every
// row, as an internal caller).
type Tenant string

// KeyStore authenticates API keys.
type KeyStore interface {
	// KeyByHash returns the key whose token hashes to hash (hex SHA-256),
	// or ErrNotFound.
	KeyByHash(ctx context.Context, hash string) (uptime.APIKey, error)
	// TouchKey sets last_used_at; best effort.
	TouchKey(ctx context.Context, id int64, at time.Time) error
}

// IdempotencyRecord is one stored POST response, scoped by (KeyID, Method,
// Path, Key).
type IdempotencyRecord struct {
	KeyID       int64
	Method      string
	Path        string
	Key         string // the Idempotency-Key header
	RequestHash string // hex SHA-256 of the tenant, raw query and raw body
	Status      int    // 0 while the first request is in flight
	Header      map[string][]string
	Body        []byte
	ExpiresAt   time.Time
}

// IdempotencyStore keeps POST responses for replay, shared by every API
// process.
type IdempotencyStore interface {
	// Claim inserts rec as in flight (Status 0) unless an unexpired record
	// with its scope exists; then it returns that one and claimed false.
	// Expired records are replaced.
	Claim(ctx context.Context, rec IdempotencyRecord) (existing IdempotencyRecord, claimed bool, err error)
	// Complete stores the response of a claimed record.
	Complete(ctx context.Context, rec IdempotencyRecord) error
	// Release deletes a claimed record whose request failed with a 5xx, so
	// the client may retry.
	Release(ctx context.Context, rec IdempotencyRecord) error
}

// AccessRecord is one API call for the audit log (never a secret).
type AccessRecord struct {
	KeyID     int64  // 0 when no key was resolved
	Consumer  string // "unknown" when no key was resolved
	Method    string
	Path      string
	Route     string // the route pattern, e.g. /api/v1/sites/{id}
	Status    int
	RequestID string
	Duration  time.Duration
	Remote    string
	Note      string // why a request was rejected
	Tenant    Tenant
}

// Auditor writes one jetmon_audit_log row per API call.
type Auditor interface {
	RecordAccess(ctx context.Context, rec AccessRecord) error
}

// SiteQuery selects a page of sites in blog_id order.
type SiteQuery struct {
	AfterBlogID int64 // cursor: blog_id > AfterBlogID
	Limit       int   // rows to return at most
	Active      *bool // monitor_active filter
	URLContains string
	Tenant      Tenant
}

// SitePatch is a partial site update: nil fields are left unchanged. A
// nullable column is cleared by its empty value as noted, the alert
// cooldown (where 0 is a value) by ClearAlertCooldown.
type SitePatch struct {
	URL                *string
	Active             *bool
	Bucket             *int
	CheckIntervalMin   *int
	Keyword            *string // "" clears
	ForbiddenKeywords  *[]string
	Headers            *map[string]string // empty clears
	TimeoutSec         *int               // 0 clears (NET_COMMS_TIMEOUT)
	RedirectPolicy     *uptime.RedirectPolicy
	MaintenanceStart   *time.Time // zero time clears
	MaintenanceEnd     *time.Time // zero time clears
	AlertCooldownMin   *int
	ClearAlertCooldown bool
}

// SiteStore reads and writes site configuration rows.
type SiteStore interface {
	ListSites(ctx context.Context, q SiteQuery) ([]uptime.SiteConfig, error)
	GetSite(ctx context.Context, blogID int64, t Tenant) (uptime.SiteConfig, error)
	// CreateSite inserts the site (site_status 1) and, with a tenant, its
	// jetmon_site_tenants row in the same transaction; ErrConflict when the
	// blog_id exists.
	CreateSite(ctx context.Context, s uptime.SiteConfig, t Tenant) (uptime.SiteConfig, error)
	UpdateSite(ctx context.Context, blogID int64, p SitePatch, t Tenant) (uptime.SiteConfig, error)
}

// EventQuery selects a page of one site's events, newest first.
type EventQuery struct {
	BlogID       int64
	BeforeID     int64 // cursor: id < BeforeID (0: from the newest)
	Limit        int
	States       []uptime.State
	CheckTypes   []string
	StartedAtGTE time.Time
	StartedAtLT  time.Time
	Active       *bool // open (true) or closed (false) only
}

// EventStore reads incident state; the API never writes it.
type EventStore interface {
	// OpenEvents returns every open event of blogIDs (any check type).
	OpenEvents(ctx context.Context, blogIDs []int64) ([]uptime.Event, error)
	ListEvents(ctx context.Context, q EventQuery) ([]uptime.Event, error)
	// TransitionCounts counts transitions per event id.
	TransitionCounts(ctx context.Context, eventIDs []int64) (map[int64]int, error)
	GetEvent(ctx context.Context, id int64) (uptime.Event, error)
	// ListTransitions returns an event's transitions with id > afterID in id
	// order, at most limit (limit <= 0: all).
	ListTransitions(ctx context.Context, eventID, afterID int64, limit int) ([]uptime.Transition, error)
}

// StatsStore reads what the statistics routes compute from: a window's
// hourly check roll-ups and events.
type StatsStore interface {
	// Rollups returns blogID's hourly roll-ups with hour in [from, to).
	Rollups(ctx context.Context, blogID int64, from, to time.Time) ([]uptime.HourlyRollup, error)
	// EventsOverlapping returns blogID's events that were open at any time
	// in [from, to).
	EventsOverlapping(ctx context.Context, blogID int64, from, to time.Time) ([]uptime.Event, error)
}

// WebhookPatch is a partial webhook update; nil leaves a field unchanged and
// an empty list resets a filter to match-all.
type WebhookPatch struct {
	URL     *string
	Active  *bool
	Events  *[]string
	SiteIDs *[]int64
	States  *[]uptime.State
}

// WebhookStore manages jetmon_webhooks rows. Rows it returns carry no
// Secret except from Create and RotateSecret.
type WebhookStore interface { //nolint:interfacebloat // one table's CRUD and its secret rotation: one consumer, one adapter
	ListWebhooks(ctx context.Context, t Tenant) ([]uptime.Webhook, error)
	GetWebhook(ctx context.Context, id int64, t Tenant) (uptime.Webhook, error)
	CreateWebhook(ctx context.Context, w uptime.Webhook, t Tenant) (uptime.Webhook, error)
	UpdateWebhook(ctx context.Context, id int64, p WebhookPatch, t Tenant) (uptime.Webhook, error)
	DeleteWebhook(ctx context.Context, id int64, t Tenant) error
	// RotateSecret replaces the secret; the old one stays valid until
	// now+grace (grace 0: invalid at once).
	RotateSecret(ctx context.Context, id int64, secret string, grace time.Duration, t Tenant) (uptime.Webhook, error)
}

// AlertContactPatch is a partial alert-contact update (the transport cannot
// change).
type AlertContactPatch struct {
	Label       *string
	Active      *bool
	Destination *map[string]string
	SiteIDs     *[]int64
	MinSeverity *uptime.Severity
	MaxPerHour  *int
}

// AlertContactStore manages jetmon_alert_contacts rows. Rows it returns
// carry no Destination.
type AlertContactStore interface {
	ListAlertContacts(ctx context.Context, t Tenant) ([]uptime.AlertContact, error)
	GetAlertContact(ctx context.Context, id int64, t Tenant) (uptime.AlertContact, error)
	CreateAlertContact(ctx context.Context, c uptime.AlertContact, t Tenant) (uptime.AlertContact, error)
	UpdateAlertContact(ctx context.Context, id int64, p AlertContactPatch, t Tenant) (uptime.AlertContact, error)
	DeleteAlertContact(ctx context.Context, id int64, t Tenant) error
}

// DeliveryQuery selects a page of one destination's deliveries, newest
// first.
type DeliveryQuery struct {
	Kind          uptime.DeliveryKind
	DestinationID int64
	BeforeID      int64 // cursor: id < BeforeID (0: from the newest)
	Limit         int
	Status        uptime.DeliveryStatus // "" for all
}

// DeliveryStore reads delivery rows and their attempts.
type DeliveryStore interface {
	ListDeliveries(ctx context.Context, q DeliveryQuery) ([]uptime.Delivery, error)
	GetDelivery(ctx context.Context, id int64) (uptime.Delivery, error)
	ListAttempts(ctx context.Context, deliveryID int64) ([]uptime.DeliveryAttempt, error)
}

// DeliveryOps are the deliverer's entry points the API exposes.
type DeliveryOps interface {
	// Retry re-enqueues a failed or abandoned delivery with a fresh retry
	// budget and message id, keeping its attempts; ErrNotRetryable
	// otherwise.
	Retry(ctx context.Context, deliveryID int64) (uptime.Delivery, error)
	// SendTest sends a test notice to an alert contact through the same
	// senders as the deliverers, bypassing its filters, active flag and rate
	// cap; no delivery row is written.
	SendTest(ctx context.Context, contactID int64) (uptime.SendResult, error)
}

// CloseRequest asks the coordinator to close events.
type CloseRequest struct {
	BlogID    int64
	EventID   int64 // the event to close; 0 with CheckType "" closes every open event
	CheckType string
	Reason    uptime.Reason // "" = manual_override
	Note      string
	Actor     string // the API key's consumer
}

// TriggerResult is the coordinator's answer to trigger-now: the owning
// prober's check and how many events its success closed.
type TriggerResult struct {
	NodeID string
	Region string
	Closed int
	Result uptime.Result
}

// Coordinator sends incident commands to the leader over NATS. Every method
// returns ErrCoordinatorUnavailable (wrapped) when no leader answered, and
// ErrNotFound when the leader knows no such site or event.
type Coordinator interface {
	CloseEvents(ctx context.Context, r CloseRequest) (closed int, err error)
	TriggerSite(ctx context.Context, blogID int64) (TriggerResult, error)
	// PauseSite and DeleteSite close every open event of the site.
	PauseSite(ctx context.Context, blogID int64, actor string) (closed int, err error)
	DeleteSite(ctx context.Context, blogID int64, actor string) (closed int, err error)
	// SyncSites asks the leader to mirror changed site rows now.
	SyncSites(ctx context.Context) error
}

// MeshView is the mesh summary of GET /api/v1/mesh.
type MeshView struct {
	LeaderNodeID       string // "" without a leader
	LeaderRegion       string
	Epoch              uint64 // the leader's fencing epoch (jetmon_coordinator_lease)
	ProbersByRegion    map[string]int
	VerifliersByRegion map[string]int
	Unassigned         []uptime.BucketRange // rollout buckets no live prober owns
	ResultsBacklog     uint64               // results the coordinator has not consumed
	Errors             []string             // parts of the mesh that could not be read
}

// Mesh reads the mesh's state from NATS. An error means none of it could
// be read (503 nats_unavailable); a part that failed is in MeshView.Errors.
type Mesh interface {
	MeshView(ctx context.Context) (MeshView, error)
}

// Pinger is a dependency health check (MySQL, NATS).
type Pinger interface {
	Ping(ctx context.Context) error
}
