package prober

import (
	"context"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// AssignmentWatcher follows this node's key in KV JETMON_ASSIGNMENTS.
type AssignmentWatcher interface {
	// WatchAssignment sends the node's assignment now and on every change
	// (an assignment without ranges when the key is deleted) until ctx ends.
	WatchAssignment(ctx context.Context, nodeID string) (<-chan uptime.Assignment, error)
}

// SiteEvent is one change of a watched bucket's sites. Synced marks the end
// of the initial snapshot of a watch.
type SiteEvent struct {
	Site    uptime.Site // set on upsert
	Bucket  int
	BlogID  int64
	Removed bool
	Synced  bool
}

// SiteWatcher follows the sites of some buckets in KV JETMON_SITES.
type SiteWatcher interface {
	// WatchBuckets sends every current site of buckets, then a Synced event,
	// then changes, until ctx ends. Interruptions are healed inside.
	WatchBuckets(ctx context.Context, buckets []int) (<-chan SiteEvent, error)
}

// Publisher stores one result on JETMON_RESULTS with a Nats-Msg-Id, so a
// retried publish is stored once. It returns only after the server stored
// it, or with an error.
type Publisher interface {
	Publish(ctx context.Context, r uptime.ProbeResult) error
}

// Checker runs one check (package check).
type Checker interface {
	Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result
}

// CheckServer answers on-demand checks on jetmon.cmd.prober.<node_id>.check.
type CheckServer interface {
	ServeChecks(ctx context.Context, nodeID string, handle func(ctx context.Context, spec uptime.CheckSpec) uptime.Result) error
}
