package bus

import (
	"encoding/json"
	"fmt"
	"time"
)

// Leader is the value of the coordinator lease (KVLeader, key LeaderKey):
// who holds it and since when.
type Leader struct {
	NodeID    string
	Region    string
	StartedAt time.Time // when this term began
}

// leaderWire is a KVLeader value.
type leaderWire struct {
	V         int       `json:"v"`
	NodeID    string    `json:"node_id"`
	Region    string    `json:"region"`
	StartedAt time.Time `json:"started_at"`
}

const kindLeader = "leader"

// EncodeLeader encodes l as the lease value.
func EncodeLeader(l Leader) ([]byte, error) {
	b, err := json.Marshal(leaderWire{V: WireVersion, NodeID: l.NodeID, Region: l.Region, StartedAt: l.StartedAt.UTC()})
	if err != nil {
		return nil, fmt.Errorf("encode leader %s: %w", l.NodeID, err)
	}
	return b, nil
}

// DecodeLeader decodes the lease value. Required: v and node_id.
func DecodeLeader(data []byte) (Leader, error) {
	var w leaderWire
	if err := unmarshal(kindLeader, data, &w, &w.V); err != nil {
		return Leader{}, err
	}
	if err := requireString(kindLeader, "node_id", w.NodeID); err != nil {
		return Leader{}, err
	}
	at, err := wireTime(kindLeader, "started_at", w.StartedAt)
	if err != nil {
		return Leader{}, err
	}
	return Leader{NodeID: w.NodeID, Region: w.Region, StartedAt: at}, nil
}
