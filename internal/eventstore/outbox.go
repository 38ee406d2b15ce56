package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// OutboxRow is one jetmon_outbox row: a committed transition not yet
// published to JetStream.
type OutboxRow struct {
	ID           int64
	TransitionID int64
	Payload      []byte // as Opts.Payload built it
}

// outbox inserts item's outbox row with the payload Opts.Payload builds.
func (a *applier) outbox(ctx context.Context, item OutboxItem) error {
	id := item.Transition.ID
	payload, err := a.store.payload(item)
	if err != nil {
		return fmt.Errorf("build outbox payload of transition %d: %w", id, err)
	}
	if !json.Valid(payload) {
		return fmt.Errorf("outbox payload of transition %d is not JSON: %w", id, ErrInvalidChange)
	}
	_, err = a.tx.ExecContext(ctx, "INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (?, ?, ?)",
		id, a.store.subject, string(payload)) // a string: MySQL refuses binary strings in JSON columns
	if err != nil {
		return fmt.Errorf("insert outbox row of transition %d: %w", id, err)
	}
	return nil
}

// Pending returns up to limit outbox rows, oldest first: the relay
// publishes them and then deletes them. It takes no lock; publishing a
// row twice is harmless (the publish is deduplicated by transition id).
func (s *Store) Pending(ctx context.Context, limit int) ([]OutboxRow, error) {
	if limit <= 0 {
		return nil, errors.New("read outbox: limit must be positive")
	}
	rows, err := s.db.QueryContext(ctx,
		"SELECT id, transition_id, payload FROM jetmon_outbox ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.TransitionID, &r.Payload); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// Delete removes the outbox rows ids (published ones); ids already gone are
// ignored.
func (s *Store) Delete(ctx context.Context, ids []int64) error {
	for part := range slices.Chunk(ids, inChunk) {
		in, args := inList(part)
		if _, err := s.db.ExecContext(ctx, "DELETE FROM jetmon_outbox WHERE id IN "+in, args...); err != nil {
			return fmt.Errorf("delete %d outbox rows: %w", len(part), err)
		}
	}
	return nil
}
