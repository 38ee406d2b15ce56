package bus

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// nodeSet is the watchHandler of Directory.WatchNodes: the live nodes of
// one role, sent as full snapshots.
type nodeSet struct {
	role   string
	out    latest[[]uptime.Node]
	nodes  map[string]uptime.Node // by node id
	next   map[string]uptime.Node // being filled by a full listing
	sent   bool                   // a first snapshot was sent
	logger *slog.Logger
}

func (s *nodeSet) begin(full bool) {
	s.next = nil
	if full {
		s.next = map[string]uptime.Node{}
	}
}

func (s *nodeSet) entry(_ context.Context, e jetstream.KeyValueEntry) error {
	role, id, ok := strings.Cut(e.Key(), ".")
	if !ok || role != s.role {
		return nil
	}
	target := s.nodes
	if s.next != nil {
		target = s.next
	}
	old, had := target[id]
	if isDeletion(e) {
		delete(target, id)
	} else if n, err := DecodeNode(e.Value()); err != nil || n.NodeID != id || n.Role != role {
		s.logger.Warn("directory: bad node value", "key", e.Key(), "err", err)
		delete(target, id)
	} else {
		target[id] = n
	}
	cur, has := target[id]
	if s.next == nil && s.sent && (had != has || !sameNode(old, cur)) {
		s.send()
	}
	return nil
}

func (s *nodeSet) synced(context.Context) error {
	if s.next != nil {
		changed := !maps.EqualFunc(s.nodes, s.next, sameNode)
		s.nodes, s.next = s.next, nil
		if changed || !s.sent {
			s.send()
		}
	}
	if !s.sent {
		s.send()
	}
	return nil
}

func (s *nodeSet) send() {
	snap := slices.Collect(maps.Values(s.nodes))
	sortNodes(snap)
	s.out.put(snap)
	s.sent = true
}

// sameNode compares what a snapshot reader acts on: everything but seen_at
// and stats.
func sameNode(a, b uptime.Node) bool {
	return a.Role == b.Role && a.NodeID == b.NodeID && a.Region == b.Region && a.Version == b.Version &&
		a.Capacity == b.Capacity && a.StartedAt.Equal(b.StartedAt)
}

func sortNodes(nodes []uptime.Node) {
	slices.SortFunc(nodes, func(a, b uptime.Node) int {
		return cmp.Or(strings.Compare(a.Role, b.Role), strings.Compare(a.NodeID, b.NodeID))
	})
}

// listEntries returns the current entry of every key matching filters (all
// keys when none), skipping deleted and expired keys; metaOnly leaves the
// values out.
func listEntries(ctx context.Context, kv jetstream.KeyValue, metaOnly bool, filters ...string) ([]jetstream.KeyValueEntry, error) {
	opts := []jetstream.WatchOpt{jetstream.IgnoreDeletes()}
	if metaOnly {
		opts = append(opts, jetstream.MetaOnly())
	}
	kw, err := kv.WatchFiltered(ctx, slices.Clone(filters), opts...)
	if err != nil {
		return nil, err //nolint:wrapcheck // callers wrap with their context
	}
	defer stopWatch(kw)
	var out []jetstream.KeyValueEntry
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list: %w", context.Cause(ctx))
		case e, ok := <-kw.Updates():
			if !ok {
				return nil, jetstream.ErrConnectionClosed
			}
			if e == nil {
				return out, nil
			}
			out = append(out, e)
		}
	}
}
