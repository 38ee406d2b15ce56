package coordinator

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// assignDebounce lets a burst of presence changes (a rolling restart) settle
// into one rebalance; it is small against NODE_TTL.
const assignDebounce = 200 * time.Millisecond

// runAssign keeps JETMON_ASSIGNMENTS in step with the live probers for one
// term: at once on the first directory snapshot, then after each change
// settles. It returns nil when ctx ends.
func (c *Coordinator) runAssign(ctx context.Context, epoch uint64, view *assignView) error {
	a := &assigner{c: c, epoch: epoch, view: view}
	if !c.retry(ctx, "list assignments", func(ctx context.Context) error {
		var err error
		a.stored, err = c.opts.Assignments.List(ctx)
		return err
	}) {
		return nil
	}
	if a.stored == nil {
		a.stored = make(map[string]uptime.Assignment)
	}
	view.set(a.stored)
	c.m.unassigned.Set(float64(unassigned(c.opts.RolloutRange, a.stored)))
	snapshots := c.watchNodes(ctx, uptime.RoleProber)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		probers []uptime.Node
		delay   time.Duration // the first snapshot is reconciled at once
		b       backoff
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case nodes, ok := <-snapshots:
			if !ok {
				snapshots = c.rewatchNodes(ctx, uptime.RoleProber)
				continue
			}
			probers = nodes
			c.m.nodes.set(uptime.RoleProber, nodes)
			timer.Reset(delay)
			delay = assignDebounce
		case <-timer.C:
			if err := a.reconcile(ctx, probers); err != nil {
				c.log.Warn("reconcile assignments", "err", err, "attempt", b.attempt+1)
				timer.Reset(b.next())
				continue
			}
			b.reset()
		}
	}
}

// watchNodeGauge keeps jetmon_mesh_nodes of role current until ctx ends,
// and passes each snapshot to also when not nil.
func (c *Coordinator) watchNodeGauge(ctx context.Context, role string, also func([]uptime.Node)) error {
	for snapshots := c.watchNodes(ctx, role); ctx.Err() == nil; snapshots = c.rewatchNodes(ctx, role) {
		for nodes := range snapshots {
			c.m.nodes.set(role, nodes)
			if also != nil {
				also(nodes)
			}
		}
	}
	return nil
}

// rewatchNodes reopens a watch that closed before ctx ended, after a pause
// so a watch that keeps failing cannot spin.
func (c *Coordinator) rewatchNodes(ctx context.Context, role string) <-chan []uptime.Node {
	if ctx.Err() == nil {
		c.log.Warn("directory watch closed; reopening", "role", role)
		b := backoff{attempt: 3}
		b.wait(ctx, nil)
	}
	return c.watchNodes(ctx, role)
}

// watchNodes opens a directory watch of role, retrying until it opens. When
// ctx ends first it returns a closed channel.
func (c *Coordinator) watchNodes(ctx context.Context, role string) <-chan []uptime.Node {
	var ch <-chan []uptime.Node
	if c.retry(ctx, "watch "+role+" nodes", func(ctx context.Context) error {
		var err error
		ch, err = c.opts.Directory.WatchNodes(ctx, role)
		return err
	}) {
		return ch
	}
	closed := make(chan []uptime.Node)
	close(closed)
	return closed
}

// assigner is one term's view of JETMON_ASSIGNMENTS: what it listed at term
// start, updated by every successful write.
type assigner struct {
	c      *Coordinator
	epoch  uint64
	stored map[string]uptime.Assignment
	view   *assignView // shares stored with the term's commands
}

// reconcile assigns the rollout range over probers and writes the keys that
// differ from stored: changed ranges or region, or an older epoch (so the
// first reconcile of a term stamps every key with the term's epoch, and a
// deposed leader's late write cannot look current to probers). Keys of
// departed probers are deleted.
func (a *assigner) reconcile(ctx context.Context, probers []uptime.Node) error {
	defer a.view.set(a.stored) // also after a partial write
	r := a.c.opts.RolloutRange
	want := Assign(r, candidates(probers), a.ranges())
	regions := make(map[string]string, len(probers))
	for _, n := range probers {
		regions[n.NodeID] = n.Region
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		next := uptime.Assignment{NodeID: id, Region: regions[id], Epoch: a.epoch, Ranges: want[id]}
		if cur, ok := a.stored[id]; ok && sameAssignment(cur, next) {
			continue
		}
		if err := a.c.opts.Assignments.Put(ctx, next); err != nil {
			return fmt.Errorf("put assignment of %s: %w", id, err)
		}
		a.stored[id] = next
		a.c.m.assignChanges.Inc()
	}
	for _, id := range slices.Sorted(maps.Keys(a.stored)) {
		if _, ok := want[id]; ok {
			continue
		}
		if err := a.c.opts.Assignments.Delete(ctx, id); err != nil {
			return fmt.Errorf("delete assignment of %s: %w", id, err)
		}
		delete(a.stored, id)
		a.c.m.assignChanges.Inc()
	}
	a.c.m.unassigned.Set(float64(unassigned(r, a.stored)))
	return nil
}

// ranges is stored as Assign's prev.
func (a *assigner) ranges() map[string][]uptime.BucketRange {
	out := make(map[string][]uptime.BucketRange, len(a.stored))
	for id, s := range a.stored {
		out[id] = s.Ranges
	}
	return out
}

func sameAssignment(a, b uptime.Assignment) bool {
	return a.Epoch == b.Epoch && a.Region == b.Region && slices.Equal(a.Ranges, b.Ranges)
}

// candidates converts directory nodes to assignment candidates.
func candidates(nodes []uptime.Node) []Candidate {
	out := make([]Candidate, len(nodes))
	for i, n := range nodes {
		out[i] = Candidate{NodeID: n.NodeID, Region: n.Region, Capacity: n.Capacity}
	}
	return out
}

// unassigned counts the buckets of r that no assignment covers.
func unassigned(r uptime.BucketRange, stored map[string]uptime.Assignment) int {
	var ranges []uptime.BucketRange
	for _, a := range stored {
		ranges = append(ranges, a.Ranges...)
	}
	slices.SortFunc(ranges, func(x, y uptime.BucketRange) int { return cmp.Compare(x.Min, y.Min) })
	covered, next := 0, r.Min // buckets below next are counted
	for _, rg := range ranges {
		lo, hi := max(rg.Min, next), min(rg.Max, r.Max)
		if lo <= hi {
			covered += hi - lo + 1
			next = hi + 1
		}
	}
	return r.Len() - covered
}
