package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// AssignmentsOpts configures Assignments.
type AssignmentsOpts struct {
	Logger *slog.Logger
	Now    func() time.Time // stamps updated_at; default time.Now
}

// Assignments is the leader's view of KV JETMON_ASSIGNMENTS (key: node id).
type Assignments struct {
	kv     *kvHandle
	now    func() time.Time
	logger *slog.Logger
}

// NewAssignments returns an Assignments; it does no I/O.
func NewAssignments(js jetstream.JetStream, o AssignmentsOpts) (*Assignments, error) {
	if js == nil {
		return nil, errors.New("assignments: jetstream is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Assignments{
		kv:     &kvHandle{js: js, bucket: KVAssignments},
		now:    o.Now,
		logger: cmpOr(o.Logger, slog.New(slog.DiscardHandler)),
	}, nil
}

// List returns every stored assignment by node id, read through a watch
// (from the stream leader, not a possibly stale direct get). Values that
// do not decode are logged and left out.
func (a *Assignments) List(ctx context.Context) (map[string]uptime.Assignment, error) {
	kv, err := a.kv.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	entries, err := listEntries(ctx, kv, false)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	out := make(map[string]uptime.Assignment, len(entries))
	for _, e := range entries {
		as, _, err := DecodeAssignment(e.Value())
		if err != nil || as.NodeID != e.Key() {
			a.logger.Warn("assignments: bad value", "key", e.Key(), "err", err)
			continue
		}
		out[e.Key()] = as
	}
	return out, nil
}

// Put writes as under its node id, stamped with the current time.
func (a *Assignments) Put(ctx context.Context, as uptime.Assignment) error {
	if !keyToken.MatchString(as.NodeID) {
		return fmt.Errorf("put assignment: node id %q must match %s", as.NodeID, keyToken)
	}
	val, err := EncodeAssignment(as, a.now())
	if err != nil {
		return err
	}
	kv, err := a.kv.get(ctx)
	if err != nil {
		return fmt.Errorf("put assignment: %w", err)
	}
	if _, err := kv.Put(ctx, as.NodeID, val); err != nil {
		return fmt.Errorf("put assignment of %s: %w", as.NodeID, err)
	}
	return nil
}

// Delete removes the assignment of nodeID.
func (a *Assignments) Delete(ctx context.Context, nodeID string) error {
	if !keyToken.MatchString(nodeID) {
		return fmt.Errorf("delete assignment: node id %q must match %s", nodeID, keyToken)
	}
	kv, err := a.kv.get(ctx)
	if err != nil {
		return fmt.Errorf("delete assignment: %w", err)
	}
	if err := kv.Delete(ctx, nodeID); err != nil {
		return fmt.Errorf("delete assignment of %s: %w", nodeID, err)
	}
	return nil
}

// AssignmentWatcherOpts configures an AssignmentWatcher.
type AssignmentWatcherOpts struct {
	Logger *slog.Logger
}

// AssignmentWatcher follows one prober's key in KV JETMON_ASSIGNMENTS.
type AssignmentWatcher struct {
	js     jetstream.JetStream
	logger *slog.Logger
}

// NewAssignmentWatcher returns an AssignmentWatcher; it does no I/O.
func NewAssignmentWatcher(js jetstream.JetStream, o AssignmentWatcherOpts) (*AssignmentWatcher, error) {
	if js == nil {
		return nil, errors.New("assignment watcher: jetstream is required")
	}
	return &AssignmentWatcher{js: js, logger: cmpOr(o.Logger, slog.New(slog.DiscardHandler))}, nil
}

// WatchAssignment sends nodeID's assignment once the watch has started,
// then on every change; an assignment with only NodeID set when the key is
// absent or deleted. Values that do not decode are logged and skipped. A
// slow reader gets the newest assignment, skipping older ones. The watch
// is supervised; the channel closes when ctx ends.
func (w *AssignmentWatcher) WatchAssignment(ctx context.Context, nodeID string) (<-chan uptime.Assignment, error) {
	if !keyToken.MatchString(nodeID) {
		return nil, fmt.Errorf("watch assignment: node id %q must match %s", nodeID, keyToken)
	}
	out := newLatest[uptime.Assignment]()
	h := &assignmentFollower{nodeID: nodeID, out: out, logger: w.logger}
	kw := kvWatch{js: w.js, bucket: KVAssignments, filters: []string{nodeID}, logger: w.logger}
	go func() {
		defer close(out)
		kw.run(ctx, h)
	}()
	return out, nil
}

// assignmentFollower is the watchHandler of WatchAssignment.
type assignmentFollower struct {
	nodeID  string
	out     latest[uptime.Assignment]
	cur     uptime.Assignment
	sent    *uptime.Assignment // last value sent
	listing bool               // a full listing is running
	seen    bool               // the listing had a value
	logger  *slog.Logger
}

func (f *assignmentFollower) begin(full bool) { f.listing, f.seen = full, false }

func (f *assignmentFollower) entry(_ context.Context, e jetstream.KeyValueEntry) error {
	if e.Key() != f.nodeID {
		return nil
	}
	f.seen = true
	if isDeletion(e) {
		f.cur = uptime.Assignment{NodeID: f.nodeID}
	} else if a, _, err := DecodeAssignment(e.Value()); err != nil || a.NodeID != f.nodeID {
		f.logger.Warn("assignment watcher: bad value", "key", e.Key(), "err", err)
		return nil
	} else {
		f.cur = a
	}
	if !f.listing {
		f.send()
	}
	return nil
}

func (f *assignmentFollower) synced(context.Context) error {
	if f.listing && !f.seen {
		f.cur = uptime.Assignment{NodeID: f.nodeID}
	}
	f.listing = false
	f.send()
	return nil
}

// send hands cur on unless it equals the last value sent.
func (f *assignmentFollower) send() {
	if f.sent != nil && sameAssignment(*f.sent, f.cur) {
		return
	}
	v := f.cur
	f.sent = &v
	f.out.put(v)
}

func sameAssignment(a, b uptime.Assignment) bool {
	return a.NodeID == b.NodeID && a.Region == b.Region && a.Epoch == b.Epoch && slices.Equal(a.Ranges, b.Ranges)
}
