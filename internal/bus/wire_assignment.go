package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// assignmentWire is a KVAssignments value; each range is [min, max].
type assignmentWire struct {
	V         int       `json:"v"`
	NodeID    string    `json:"node_id"`
	Region    string    `json:"region"`
	Epoch     uint64    `json:"epoch"`
	Ranges    [][]int   `json:"ranges"`
	UpdatedAt time.Time `json:"updated_at"`
}

const kindAssignment = "assignment"

// EncodeAssignment encodes a as a KVAssignments value written at updatedAt.
func EncodeAssignment(a uptime.Assignment, updatedAt time.Time) ([]byte, error) {
	w := assignmentWire{
		V:         WireVersion,
		NodeID:    a.NodeID,
		Region:    a.Region,
		Epoch:     a.Epoch,
		Ranges:    make([][]int, len(a.Ranges)),
		UpdatedAt: updatedAt.UTC(),
	}
	for i, r := range a.Ranges {
		w.Ranges[i] = []int{r.Min, r.Max}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode assignment of %s: %w", a.NodeID, err)
	}
	return b, nil
}

// DecodeAssignment decodes a KVAssignments value and returns it with the
// time it was written. Required: v, node_id, epoch (> 0) and ranges (a
// list, possibly empty, of [min, max] with 0 <= min <= max).
func DecodeAssignment(data []byte) (uptime.Assignment, time.Time, error) {
	var w assignmentWire
	if err := unmarshal(kindAssignment, data, &w, &w.V); err != nil {
		return uptime.Assignment{}, time.Time{}, err
	}
	if err := requireString(kindAssignment, "node_id", w.NodeID); err != nil {
		return uptime.Assignment{}, time.Time{}, err
	}
	if w.Epoch == 0 {
		return uptime.Assignment{}, time.Time{}, malformed(kindAssignment, "field %q: missing or 0", "epoch")
	}
	if w.Ranges == nil {
		return uptime.Assignment{}, time.Time{}, malformed(kindAssignment, "missing field %q", "ranges")
	}
	a := uptime.Assignment{NodeID: w.NodeID, Region: w.Region, Epoch: w.Epoch}
	for i, r := range w.Ranges {
		if len(r) != 2 || r[0] < 0 || r[0] > r[1] {
			return uptime.Assignment{}, time.Time{}, malformed(kindAssignment, "ranges[%d]: %v is not [min, max] with 0 <= min <= max", i, r)
		}
		a.Ranges = append(a.Ranges, uptime.BucketRange{Min: r[0], Max: r[1]})
	}
	at, err := wireTime(kindAssignment, "updated_at", w.UpdatedAt)
	if err != nil {
		return uptime.Assignment{}, time.Time{}, err
	}
	return a, at, nil
}
