package uptime

import (
	"slices"
	"time"
)

// Site is one monitored site as the mesh distributes it: its bucket, its
// check spec and how often to check it.
type Site struct {
	BlogID        int64
	Bucket        int
	Spec          CheckSpec
	CheckInterval time.Duration // from check_interval; probers apply their floor
	// MaintenanceStart/End bound a maintenance window (both zero: none).
	MaintenanceStart time.Time
	MaintenanceEnd   time.Time
	// AlertCooldown overrides ALERT_COOLDOWN_MINUTES when non-zero.
	AlertCooldown time.Duration
	UpdatedAt     time.Time // the row's updated_at when it was mirrored
}

// BucketRange is an inclusive range of buckets.
type BucketRange struct {
	Min int
	Max int
}

// Len is the number of buckets in the range.
func (r BucketRange) Len() int { return r.Max - r.Min + 1 }

// Contains reports whether bucket lies in the range.
func (r BucketRange) Contains(bucket int) bool { return bucket >= r.Min && bucket <= r.Max }

// Assignment is the set of buckets one prober owns, stamped with the epoch of
// the leader that wrote it. Probers ignore assignments with an epoch lower
// than the highest they have seen.
type Assignment struct {
	NodeID string
	Region string
	Epoch  uint64
	Ranges []BucketRange
}

// Owns reports whether the assignment includes bucket.
func (a Assignment) Owns(bucket int) bool {
	return slices.ContainsFunc(a.Ranges, func(r BucketRange) bool { return r.Contains(bucket) })
}

// Buckets lists every bucket of the assignment in order.
func (a Assignment) Buckets() []int {
	var out []int
	for _, r := range a.Ranges {
		for b := r.Min; b <= r.Max; b++ {
			out = append(out, b)
		}
	}
	return out
}

// Roles of mesh nodes, as used in presence keys.
const (
	RoleCoordinator = "coordinator"
	RoleProber      = "prober"
	RoleVeriflier   = "veriflier"
	RoleDeliverer   = "deliverer"
	RoleAPI         = "api"
)

// Node is one live mesh node as it announces itself.
type Node struct {
	Role      string
	NodeID    string
	Region    string
	Version   string
	Capacity  int
	StartedAt time.Time
	SeenAt    time.Time        // when the announcement was written
	Stats     map[string]int64 // a few role-specific counters (sites held, checks run, ...)
}

// ProbeResult is a check result as a prober publishes it: which site, where
// it was checked from, and when it was due.
type ProbeResult struct {
	Result
	Bucket int
	Region string
	NodeID string
	DueAt  time.Time // when the schedule wanted the check; CheckedAt - DueAt is the check's lateness
	// Failures counts consecutive local failures of the site including this
	// one; 0 on success.
	Failures int
}
