package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// nodeWire is a KVNodes value.
type nodeWire struct {
	V         int              `json:"v"`
	Role      string           `json:"role"`
	NodeID    string           `json:"node_id"`
	Region    string           `json:"region"`
	Version   string           `json:"version"`
	Capacity  int              `json:"capacity"`
	StartedAt time.Time        `json:"started_at"`
	SeenAt    time.Time        `json:"seen_at"`
	Stats     map[string]int64 `json:"stats"`
}

const kindNode = "node"

// EncodeNode encodes n as a KVNodes value.
func EncodeNode(n uptime.Node) ([]byte, error) {
	w := nodeWire{
		V:         WireVersion,
		Role:      n.Role,
		NodeID:    n.NodeID,
		Region:    n.Region,
		Version:   n.Version,
		Capacity:  n.Capacity,
		StartedAt: n.StartedAt.UTC(),
		SeenAt:    n.SeenAt.UTC(),
		Stats:     n.Stats,
	}
	if w.Stats == nil {
		w.Stats = map[string]int64{}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode node %s: %w", n.NodeID, err)
	}
	return b, nil
}

// DecodeNode decodes a KVNodes value. Required: v, role and node_id;
// capacity must not be negative. Empty stats decode as nil.
func DecodeNode(data []byte) (uptime.Node, error) {
	var w nodeWire
	if err := unmarshal(kindNode, data, &w, &w.V); err != nil {
		return uptime.Node{}, err
	}
	if err := requireString(kindNode, "role", w.Role); err != nil {
		return uptime.Node{}, err
	}
	if err := requireString(kindNode, "node_id", w.NodeID); err != nil {
		return uptime.Node{}, err
	}
	if err := requireNonNegative(kindNode, "capacity", int64(w.Capacity)); err != nil {
		return uptime.Node{}, err
	}
	n := uptime.Node{Role: w.Role, NodeID: w.NodeID, Region: w.Region, Version: w.Version, Capacity: w.Capacity}
	if len(w.Stats) > 0 {
		n.Stats = w.Stats
	}
	var err error
	if n.StartedAt, err = wireTime(kindNode, "started_at", w.StartedAt); err != nil {
		return uptime.Node{}, err
	}
	if n.SeenAt, err = wireTime(kindNode, "seen_at", w.SeenAt); err != nil {
		return uptime.Node{}, err
	}
	return n, nil
}
