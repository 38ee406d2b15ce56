package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// keyToken matches a role or node id usable as one KV key token and one
// subject token.
var keyToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// stopTimeout bounds the clean-up writes a component makes when its ctx
// ends (presence delete, lease resign).
const stopTimeout = 2 * time.Second

// PresenceOpts configures a node's presence key.
type PresenceOpts struct {
	Role     string // uptime.Role*
	NodeID   string
	Region   string
	Version  string
	Capacity int
	// TTL is JETMON_NODES' TTL (NODE_TTL_SEC, default DefaultNodeTTL); the
	// key is written every TTL/3.
	TTL time.Duration
	// Stats returns a few role counters for each write; optional. It is
	// called from Run's goroutine.
	Stats  func() map[string]int64
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Presence keeps <role>.<node_id> alive in KV JETMON_NODES.
type Presence struct {
	js jetstream.JetStream
	o  PresenceOpts
}

// NewPresence validates o; it does no I/O.
func NewPresence(js jetstream.JetStream, o PresenceOpts) (*Presence, error) {
	if js == nil {
		return nil, errors.New("presence: jetstream is required")
	}
	if !keyToken.MatchString(o.Role) || !keyToken.MatchString(o.NodeID) {
		return nil, fmt.Errorf("presence: role %q and node id %q must match %s", o.Role, o.NodeID, keyToken)
	}
	if o.Capacity < 0 {
		return nil, fmt.Errorf("presence: capacity %d < 0", o.Capacity)
	}
	o.TTL = cmpOr(o.TTL, DefaultNodeTTL)
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler))
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Presence{js: js, o: o}, nil
}

// Run writes the presence key at once and every TTL/3 until ctx ends, then
// deletes it (conditionally on its last revision, so a newer process with
// the same node id keeps its key). Write failures are logged and retried
// at the next tick; Run returns nil when ctx ends.
func (p *Presence) Run(ctx context.Context) error {
	log := p.o.Logger.With("component", "presence", "role", p.o.Role)
	key := NodeKey(p.o.Role, p.o.NodeID)
	startedAt := p.o.Now()
	tick := time.NewTicker(p.o.TTL / 3)
	defer tick.Stop()
	var (
		kv  jetstream.KeyValue
		rev uint64
	)
	for {
		var err error
		if kv == nil {
			kv, err = p.js.KeyValue(ctx, KVNodes)
		}
		if kv != nil {
			rev, err = p.put(ctx, kv, key, startedAt, rev)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("presence: write", "err", err)
		}
		select {
		case <-ctx.Done():
			p.remove(ctx, log, kv, key, rev)
			return nil
		case <-tick.C:
		}
	}
}

// put writes the node value once, bounded by a third of the TTL so that a
// stalled write does not hold back the next one; it returns the new
// revision, or prev on failure.
func (p *Presence) put(ctx context.Context, kv jetstream.KeyValue, key string, startedAt time.Time, prev uint64) (uint64, error) {
	n := uptime.Node{
		Role: p.o.Role, NodeID: p.o.NodeID, Region: p.o.Region, Version: p.o.Version,
		Capacity: p.o.Capacity, StartedAt: startedAt, SeenAt: p.o.Now(),
	}
	if p.o.Stats != nil {
		n.Stats = p.o.Stats()
	}
	val, err := EncodeNode(n)
	if err != nil {
		return prev, err
	}
	pctx, cancel := context.WithTimeout(ctx, p.o.TTL/3)
	defer cancel()
	rev, err := kv.Put(pctx, key, val)
	if err != nil {
		return prev, fmt.Errorf("put %s: %w", key, err)
	}
	return rev, nil
}

// remove deletes the key if it still holds this process's last write.
func (p *Presence) remove(ctx context.Context, log *slog.Logger, kv jetstream.KeyValue, key string, rev uint64) {
	if kv == nil || rev == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	if err := kv.Delete(dctx, key, jetstream.LastRevision(rev)); err != nil {
		log.Warn("presence: delete on stop", "err", err)
	}
}

// DirectoryOpts configures a Directory.
type DirectoryOpts struct {
	Logger *slog.Logger
}

// Directory tells which nodes are alive, from KV JETMON_NODES.
type Directory struct {
	js     jetstream.JetStream
	logger *slog.Logger
}

// NewDirectory returns a Directory; it does no I/O.
func NewDirectory(js jetstream.JetStream, o DirectoryOpts) (*Directory, error) {
	if js == nil {
		return nil, errors.New("directory: jetstream is required")
	}
	return &Directory{js: js, logger: cmpOr(o.Logger, slog.New(slog.DiscardHandler))}, nil
}

// WatchNodes sends the live nodes of role (sorted by node id) once the
// watch has its initial values, and again whenever a node appears,
// disappears (deleted or expired) or changes its role, region, version,
// capacity or start time; writes that change only seen_at and stats are
// not sent. A slow reader gets the newest snapshot, skipping older ones.
// The watch is supervised (watched again in full after any interruption);
// the channel closes when ctx ends.
func (d *Directory) WatchNodes(ctx context.Context, role string) (<-chan []uptime.Node, error) {
	if !keyToken.MatchString(role) {
		return nil, fmt.Errorf("watch nodes: role %q must match %s", role, keyToken)
	}
	out := newLatest[[]uptime.Node]()
	h := &nodeSet{role: role, out: out, nodes: map[string]uptime.Node{}, logger: d.logger}
	w := kvWatch{js: d.js, bucket: KVNodes, filters: []string{role + ".*"}, logger: d.logger}
	go func() {
		defer close(out)
		w.run(ctx, h)
	}()
	return out, nil
}

// ListNodes returns every live node of every role, sorted by role and node
// id; values that do not decode are left out. For `jetmon mesh status`.
func ListNodes(ctx context.Context, js jetstream.JetStream) ([]uptime.Node, error) {
	kv, err := js.KeyValue(ctx, KVNodes)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	entries, err := listEntries(ctx, kv, false)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]uptime.Node, 0, len(entries))
	for _, e := range entries {
		if n, err := DecodeNode(e.Value()); err == nil {
			nodes = append(nodes, n)
		}
	}
	sortNodes(nodes)
	return nodes, nil
}
