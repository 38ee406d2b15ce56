package meshstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Status is one snapshot of the mesh.
type Status struct {
	At          time.Time      `json:"at"`
	Leader      *Leader        `json:"leader"` // nil: no leader
	Nodes       []Node         `json:"nodes"`
	Assignments []Assignment   `json:"assignments"`
	Rollout     Range          `json:"rollout_range"`
	Unassigned  []Range        `json:"unassigned_buckets"`
	Backlog     *Backlog       `json:"results_backlog"` // nil when the consumer does not exist yet
	Errors      []string       `json:"errors,omitempty"`
	Counts      map[string]int `json:"nodes_by_role"`
}

// Leader is the lease holder.
type Leader struct {
	NodeID    string    `json:"node_id"`
	Region    string    `json:"region"`
	StartedAt time.Time `json:"started_at"`
	Epoch     uint64    `json:"epoch"` // 0 when unknown
}

// Node is one live node.
type Node struct {
	Role      string           `json:"role"`
	NodeID    string           `json:"node_id"`
	Region    string           `json:"region"`
	Version   string           `json:"version"`
	Capacity  int              `json:"capacity"`
	StartedAt time.Time        `json:"started_at"`
	AgeSec    float64          `json:"age_sec"` // since its last heartbeat
	Stats     map[string]int64 `json:"stats,omitempty"`
}

// Assignment is one prober's buckets.
type Assignment struct {
	NodeID  string  `json:"node_id"`
	Region  string  `json:"region"`
	Epoch   uint64  `json:"epoch"`
	Ranges  []Range `json:"ranges"`
	Buckets int     `json:"buckets"`
	Alive   bool    `json:"alive"` // a live prober holds it
}

// Range is an inclusive bucket range.
type Range struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Backlog is the coordinator consumer's view of JETMON_RESULTS.
type Backlog struct {
	Pending    uint64 `json:"pending"`     // not yet delivered to the coordinator
	AckPending int    `json:"ack_pending"` // delivered, not yet committed
	Stream     uint64 `json:"stream_msgs"` // results the stream holds
}

// Opts says what to compare against.
type Opts struct {
	Rollout uptime.BucketRange
	// Epoch returns the fencing epoch (MySQL); optional.
	Epoch func(ctx context.Context) (uint64, error)
	Now   func() time.Time
}

// Collect reads the mesh's state. Parts that cannot be read are reported in
// Status.Errors rather than failing the whole snapshot.
func Collect(ctx context.Context, js jetstream.JetStream, o Opts) Status {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := Status{At: o.Now().UTC(), Rollout: Range(o.Rollout), Counts: map[string]int{}}
	s.Leader = leader(ctx, js, o, &s)
	nodes, err := bus.ListNodes(ctx, js)
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
	}
	live := map[string]bool{}
	for _, n := range nodes {
		s.Nodes = append(s.Nodes, Node{
			Role: n.Role, NodeID: n.NodeID, Region: n.Region, Version: n.Version, Capacity: n.Capacity,
			StartedAt: n.StartedAt, AgeSec: s.At.Sub(n.SeenAt).Seconds(), Stats: n.Stats,
		})
		s.Counts[n.Role]++
		if n.Role == uptime.RoleProber {
			live[n.NodeID] = true
		}
	}
	s.Assignments, s.Unassigned = assignments(ctx, js, o.Rollout, live, &s)
	s.Backlog = backlog(ctx, js, &s)
	return s
}

func leader(ctx context.Context, js jetstream.JetStream, o Opts, s *Status) *Leader {
	l, _, err := bus.CurrentLeader(ctx, js)
	if errors.Is(err, bus.ErrNoLeader) {
		return nil
	}
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
		return nil
	}
	out := &Leader{NodeID: l.NodeID, Region: l.Region, StartedAt: l.StartedAt}
	if o.Epoch != nil {
		if epoch, err := o.Epoch(ctx); err == nil {
			out.Epoch = epoch
		} else {
			s.Errors = append(s.Errors, fmt.Sprintf("fencing epoch: %v", err))
		}
	}
	return out
}

func assignments(ctx context.Context, js jetstream.JetStream, rollout uptime.BucketRange, live map[string]bool, s *Status) ([]Assignment, []Range) {
	store, err := bus.NewAssignments(js, bus.AssignmentsOpts{})
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
		return nil, []Range{Range(rollout)}
	}
	all, err := store.List(ctx)
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
		return nil, []Range{Range(rollout)}
	}
	owned := make([]bool, rollout.Len())
	var rows []Assignment
	for id, a := range all {
		row := Assignment{NodeID: id, Region: a.Region, Epoch: a.Epoch, Alive: live[id]}
		for _, r := range a.Ranges {
			row.Ranges = append(row.Ranges, Range(r))
			row.Buckets += r.Len()
			for b := max(r.Min, rollout.Min); row.Alive && b <= min(r.Max, rollout.Max); b++ {
				owned[b-rollout.Min] = true
			}
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Assignment) int { return firstBucket(a) - firstBucket(b) })
	return rows, gaps(owned, rollout.Min)
}

func firstBucket(a Assignment) int {
	if len(a.Ranges) == 0 {
		return -1
	}
	return a.Ranges[0].Min
}

// gaps turns the unowned buckets into ranges.
func gaps(owned []bool, offset int) []Range {
	var out []Range
	for i := 0; i < len(owned); i++ {
		if owned[i] {
			continue
		}
		j := i
		for j+1 < len(owned) && !owned[j+1] {
			j++
		}
		out = append(out, Range{Min: offset + i, Max: offset + j})
		i = j
	}
	return out
}

func backlog(ctx context.Context, js jetstream.JetStream, s *Status) *Backlog {
	cons, err := js.Consumer(ctx, bus.StreamResults, bus.ConsumerCoordinator)
	if err != nil {
		if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			s.Errors = append(s.Errors, fmt.Sprintf("results consumer: %v", err))
		}
		return nil
	}
	info, err := cons.Info(ctx)
	if err != nil {
		s.Errors = append(s.Errors, fmt.Sprintf("results consumer: %v", err))
		return nil
	}
	b := &Backlog{Pending: info.NumPending, AckPending: info.NumAckPending}
	if stream, err := js.Stream(ctx, bus.StreamResults); err == nil {
		b.Stream = stream.CachedInfo().State.Msgs
	}
	return b
}
