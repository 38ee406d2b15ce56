package incident

import "time"

// Jetmon's defaults for the policy.
const (
	DefaultNumOfChecks      = 3                // NUM_OF_CHECKS
	DefaultPeerOfflineLimit = 3                // PEER_OFFLINE_LIMIT
	DefaultAlertCooldown    = 30 * time.Minute // ALERT_COOLDOWN_MINUTES
	DefaultTLSWarningDays   = 30               // tls_expiry opens as Warning at this many days or fewer
	DefaultTLSDegradedDays  = 7                // and is Degraded at this many days or fewer
)

// Policy is the configuration the decisions depend on.
type Policy struct {
	// NumOfChecks is how many consecutive local failures ask for
	// confirmation (NUM_OF_CHECKS); below 1 means DefaultNumOfChecks.
	NumOfChecks int
	// PeerOfflineLimit caps the quorum of confirming votes
	// (PEER_OFFLINE_LIMIT); below 1 means DefaultPeerOfflineLimit.
	PeerOfflineLimit int
	// AlertCooldown is the minimum time between two down notifications of a
	// site (ALERT_COOLDOWN_MINUTES) unless the site overrides it; zero or
	// negative disables the cooldown.
	AlertCooldown time.Duration
	// TLSWarningDays: a certificate expiring in this many days or fewer opens
	// a Warning tls_expiry advisory; zero means DefaultTLSWarningDays.
	TLSWarningDays int
	// TLSDegradedDays: this many days or fewer is Degraded; zero means
	// DefaultTLSDegradedDays.
	TLSDegradedDays int
	// HaveVerifiers is false when no veriflier region is configured: then
	// NumOfChecks local failures confirm a Seems Down without asking anyone.
	HaveVerifiers bool
}

// DefaultPolicy is Jetmon's configuration with veriflier regions configured.
func DefaultPolicy() Policy {
	return Policy{
		NumOfChecks:      DefaultNumOfChecks,
		PeerOfflineLimit: DefaultPeerOfflineLimit,
		AlertCooldown:    DefaultAlertCooldown,
		TLSWarningDays:   DefaultTLSWarningDays,
		TLSDegradedDays:  DefaultTLSDegradedDays,
		HaveVerifiers:    true,
	}
}

// withDefaults fills the fields whose zero value means the default.
func (p Policy) withDefaults() Policy {
	if p.NumOfChecks < 1 {
		p.NumOfChecks = DefaultNumOfChecks
	}
	if p.PeerOfflineLimit < 1 {
		p.PeerOfflineLimit = DefaultPeerOfflineLimit
	}
	if p.TLSWarningDays == 0 {
		p.TLSWarningDays = DefaultTLSWarningDays
	}
	if p.TLSDegradedDays == 0 {
		p.TLSDegradedDays = DefaultTLSDegradedDays
	}
	return p
}
