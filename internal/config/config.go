package config

import (
	"fmt"
	"time"
)

// Email transports.
const (
	EmailStub  = "stub"
	EmailSMTP  = "smtp"
	EmailWPCOM = "wpcom"
)

// Config is the validated configuration of one process. Durations are
// time.Duration; secrets are Secret. It is passed by value.
type Config struct {
	Debug     bool
	LogFormat string // text or json

	// Incident policy.
	NumOfChecks            int
	PeerOfflineLimit       int
	TimeBetweenChecks      time.Duration
	AlertCooldown          time.Duration
	LegacyStatusProjection bool

	// Checker.
	NetCommsTimeout time.Duration
	UserAgent       string
	CABundle        string
	DNSResolver     string
	SourceAddr      string

	// Buckets and mesh timing.
	BucketTotal          int
	RolloutBucketMin     int
	RolloutBucketMax     int
	NodeTTL              time.Duration
	LeaderTTL            time.Duration
	SiteSyncInterval     time.Duration
	SiteFullSync         time.Duration
	MinCheckInterval     time.Duration
	MaxConcurrentChecks  int
	ResultBuffer         int
	HistorySuccessSample time.Duration

	// Node identity.
	Region   string
	NodeID   string
	Capacity int

	// NATS.
	NATS NATS

	// Database.
	DB DB

	// Delivery.
	Email          Email
	AuthToken      Secret
	WPCOMNotify    bool
	WPCOMNotifyURL string
	RetrySchedule  []time.Duration
	// DeliveryWorkers is how many jobs each dispatch consumer (webhook,
	// alert, wpcom) of a deliverer handles at once; the fan-out gets as many.
	DeliveryWorkers int
	// DeliveryTimeout bounds one send; a delivery's claim lease is twice
	// as long, and the delivery consumers' AckWait should be too.
	DeliveryTimeout time.Duration

	// Listeners and lifecycle.
	APIAddr         string
	OpsAddr         string
	ShutdownTimeout time.Duration

	// Warnings collected while loading (retired keys, aliases); each role
	// logs them once at startup.
	Warnings []string
}

// NATS says how to reach the bus. An empty URL means the embedded server
// (only `jetmon all` runs one).
type NATS struct {
	URL string
	// EmbeddedAddr is where the embedded server of `jetmon all` listens for
	// other processes (host:port); empty serves in-process clients only.
	EmbeddedAddr string
	Replicas     int
	StoreDir     string
	User         string
	Password     Secret
	CredsFile    string
}

// DB holds the MySQL connection settings; DSN wins when set.
type DB struct {
	DSN      Secret
	Host     string
	Port     int
	User     string
	Password Secret
	Name     string
}

// ConnString returns the go-sql-driver DSN: DB_DSN when set, else one built
// from the DB_* parts.
func (d DB) ConnString() string {
	if d.DSN != "" {
		return d.DSN.Reveal()
	}
	cred := d.User
	if d.Password != "" {
		cred += ":" + d.Password.Reveal()
	}
	return fmt.Sprintf("%s@tcp(%s:%d)/%s", cred, d.Host, d.Port, d.Name)
}

// Display returns a printable description of the database without secrets.
func (d DB) Display() string {
	if d.DSN != "" {
		return "DB_DSN " + d.DSN.String()
	}
	return fmt.Sprintf("%s@%s:%d/%s", d.User, d.Host, d.Port, d.Name)
}

// Email holds the alert-contact email transport settings.
type Email struct {
	Transport      string // stub, smtp or wpcom (the empty alias is normalised to stub)
	From           string
	WPCOMEndpoint  string
	WPCOMAuthToken Secret
	SMTPHost       string
	SMTPPort       int
	SMTPUsername   string
	SMTPPassword   Secret
	SMTPUseTLS     bool
}

// ProjectionLine is the startup line every role logs about the legacy
// site_status projection.
func (c Config) ProjectionLine() string {
	if c.LegacyStatusProjection {
		return "legacy_status_projection=enabled"
	}
	return "legacy_status_projection=disabled"
}

// EmailLine is the startup line about the email transport, logged by every
// process that can send email (its senders' wiring) and validate-config.
func (c Config) EmailLine() string { return "email_transport=" + c.Email.Transport }

// EmailStubWarning is the warning shown when alert-contact emails are only
// logged; empty when a real transport is configured.
func (c Config) EmailStubWarning() string {
	if c.Email.Transport != EmailStub {
		return ""
	}
	return "email_transport=stub: alert-contact emails will be logged, not delivered"
}
