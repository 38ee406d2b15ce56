package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Node is one process's set of roles around its NATS connection. The roles
// run in one group; the resources they share (the connection, a database
// pool) are released only after every role has returned, so a coordinator
// can still resign and a prober still flush its results while draining.
type Node struct {
	Conn *nats.Conn
	JS   jetstream.JetStream

	drainTimeout time.Duration
	parts        map[string]Runner
	closers      []func() error
	shared       map[string]any
}

// NewNode wraps a connected NATS client.
func NewNode(nc *nats.Conn, drainTimeout time.Duration) (*Node, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Node{Conn: nc, JS: js, drainTimeout: drainTimeout, parts: map[string]Runner{}, shared: map[string]any{}}, nil
}

// Add registers a long-lived part; names are unique per node.
func (n *Node) Add(name string, r Runner) { n.parts[name] = r }

// Part returns a registered part.
func (n *Node) Part(name string) (Runner, bool) {
	r, ok := n.parts[name]
	return r, ok
}

// Shared returns a resource registered by an earlier role of the process.
func (n *Node) Shared(key string) (any, bool) {
	v, ok := n.shared[key]
	return v, ok
}

// Share registers a resource for later roles and how to release it.
func (n *Node) Share(key string, v any, closeFn func() error) {
	n.shared[key] = v
	n.closers = append(n.closers, closeFn)
}

// Run runs every part until ctx ends (or one fails), then releases the
// shared resources in reverse order and drains the NATS connection.
func (n *Node) Run(ctx context.Context) error {
	err := RunGroup(ctx, n.parts)
	var errs []error
	for _, closeFn := range slices.Backward(n.closers) {
		errs = append(errs, closeFn())
	}
	errs = append(errs, drainConn(n.Conn, n.drainTimeout))
	return errors.Join(append([]error{err}, errs...)...)
}

// Abort releases what the node holds when wiring failed before Run.
func (n *Node) Abort() {
	for _, closeFn := range slices.Backward(n.closers) {
		_ = closeFn()
	}
	n.Conn.Close()
}
