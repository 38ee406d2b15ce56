package eventstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// eventColumns are the jetmon_events columns scanEvent reads, all of an open
// event's state.
const eventColumns = "id, blog_id, check_type, severity, state, started_at, metadata"

// inChunk is how many ids one IN (...) list holds.
const inChunk = 500

// OpenEvents returns every open event the mesh manages (endpoint and
// discriminator empty), in id order: the state a new leader starts from.
func (s *Store) OpenEvents(ctx context.Context) ([]uptime.Event, error) {
	// dedup_key is NULL exactly when ended_at is set, so its unique index
	// holds the open events only.
	rows, err := s.db.QueryContext(ctx, "SELECT "+eventColumns+` FROM jetmon_events
		WHERE dedup_key IS NOT NULL AND endpoint_id IS NULL AND discriminator IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read open events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("read open events: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read open events: %w", err)
	}
	return out, nil
}

// Event returns the event with id, open or closed; found is false when no
// event the mesh manages (endpoint and discriminator empty) has that id.
// Commands that name an event by id (the REST API's close) resolve it here.
func (s *Store) Event(ctx context.Context, id int64) (ev uptime.Event, found bool, err error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+eventColumns+`, ended_at, resolution_reason FROM jetmon_events
		WHERE id = ? AND endpoint_id IS NULL AND discriminator IS NULL`, id)
	var (
		ended      sql.NullTime
		resolution sql.NullString
	)
	ev, err = scanEvent(row, &ended, &resolution)
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.Event{}, false, nil
	}
	if err != nil {
		return uptime.Event{}, false, fmt.Errorf("read event %d: %w", id, err)
	}
	if ended.Valid {
		ev.EndedAt = ended.Time.UTC()
	}
	ev.ResolutionReason = uptime.Reason(resolution.String)
	return ev, true, nil
}

// lockOpen reads the open event of (blogID, checkType) under an exclusive
// row lock held until tx ends; found is false when there is none.
func lockOpen(ctx context.Context, tx *sql.Tx, blogID int64, checkType string) (ev uptime.Event, found bool, err error) {
	row := tx.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM jetmon_events WHERE dedup_key = ? FOR UPDATE",
		dedupKey(blogID, checkType))
	ev, err = scanEvent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.Event{}, false, nil
	}
	if err != nil {
		return uptime.Event{}, false, fmt.Errorf("lock open event: %w", err)
	}
	return ev, true, nil
}

// dedupKey is jetmon_events.dedup_key of the open event of (blogID,
// checkType), as migration 000003 generates it: blog_id, endpoint_id (0 when
// NULL), check_type and discriminator (empty when NULL) joined by ':', with
// the empty endpoint and discriminator the mesh always writes.
func dedupKey(blogID int64, checkType string) string {
	return strconv.FormatInt(blogID, 10) + ":0:" + checkType + ":"
}

// scanEvent scans one row of eventColumns, then into extra the columns
// that follow them.
func scanEvent(row interface{ Scan(dest ...any) error }, extra ...any) (uptime.Event, error) {
	var (
		ev    uptime.Event
		sev   uint8
		state string
		meta  []byte
	)
	dest := append([]any{&ev.ID, &ev.BlogID, &ev.CheckType, &sev, &state, &ev.StartedAt, &meta}, extra...)
	if err := row.Scan(dest...); err != nil {
		return uptime.Event{}, fmt.Errorf("scan event: %w", err)
	}
	ev.Severity, ev.State = uptime.Severity(sev), uptime.State(state)
	ev.StartedAt = ev.StartedAt.UTC()
	var err error
	if ev.Metadata, err = decodeMetadata(meta); err != nil {
		return uptime.Event{}, fmt.Errorf("event %d: %w", ev.ID, err)
	}
	return ev, nil
}

// encodeMetadata is m as a JSON column value: NULL when empty.
func encodeMetadata(m map[string]any) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode metadata: %w: %w", err, ErrInvalidChange)
	}
	// A string, not []byte: MySQL refuses binary strings in JSON columns.
	return sql.NullString{String: string(b), Valid: true}, nil
}

// decodeMetadata decodes a JSON column value; NULL is nil.
func decodeMetadata(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	return m, nil
}

// sameMetadata reports whether stored (as decoded) and next (as encoded)
// hold the same values. It compares decoded values, never bytes: MySQL
// normalises JSON documents.
func sameMetadata(stored map[string]any, next sql.NullString) (bool, error) {
	decoded, err := decodeMetadata([]byte(next.String))
	if err != nil {
		return false, err
	}
	if len(stored) == 0 && len(decoded) == 0 {
		return true, nil
	}
	return reflect.DeepEqual(stored, decoded), nil
}

// inList returns "(?, ?, ...)" for ids and ids as arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}
