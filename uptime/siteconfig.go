package uptime

import "time"

// SiteConfig is one jetpack_monitor_sites row as the API manages it: the
// configuration columns, plus the bookkeeping the coordinator writes (the
// legacy projection, last check, certificate expiry), read-only here.
type SiteConfig struct {
	BlogID            int64
	Bucket            int
	URL               string
	Active            bool
	CheckIntervalMin  int // minutes; 0 = MIN_CHECK_INTERVAL_SEC
	Keyword           string
	ForbiddenKeywords []string
	Headers           map[string]string
	TimeoutSec        int // 0 = NET_COMMS_TIMEOUT
	RedirectPolicy    RedirectPolicy
	MaintenanceStart  time.Time // zero: none
	MaintenanceEnd    time.Time
	AlertCooldownMin  *int // nil = ALERT_COOLDOWN_MINUTES

	// Written by the coordinator.
	LegacyStatus     LegacyStatus // site_status
	LastStatusChange time.Time
	LastCheckedAt    time.Time
	SSLExpiryDate    time.Time // a date (UTC midnight); zero when unknown
	LastAlertSentAt  time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// HourlyRollup is one jetmon_check_rollups_hourly row: every check of a
// site in one UTC hour. The RTT and phase sums cover RTTSamples checks.
type HourlyRollup struct {
	BlogID     int64
	Hour       time.Time
	Checks     int64
	Failures   int64
	RTTSamples int64
	SumRTTMs   int64
	MinRTTMs   *int64
	MaxRTTMs   *int64
	SumDNSMs   int64
	SumTCPMs   int64
	SumTLSMs   int64
	SumTTFBMs  int64
}
