package apistore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Incident state is read here and never written: the coordinator is the
// only writer of jetmon_events and jetmon_event_transitions.

// maxEventPage bounds one ListEvents or ListTransitions call.
const maxEventPage = 1000

// eventColumns are the jetmon_events columns scanEvent reads.
const eventColumns = `id, blog_id, check_type, severity, state, started_at, ended_at, resolution_reason, metadata`

// scanEvent reads one eventColumns row.
func (s *Store) scanEvent(r rowScanner) (uptime.Event, error) {
	var (
		e        uptime.Event
		severity uint8
		state    string
		ended    sql.NullTime
		reason   sql.NullString
		metadata []byte
	)
	if err := r.Scan(&e.ID, &e.BlogID, &e.CheckType, &severity, &state, &e.StartedAt, &ended, &reason, &metadata); err != nil {
		return uptime.Event{}, err
	}
	e.Severity, e.State, e.ResolutionReason = uptime.Severity(severity), uptime.State(state), uptime.Reason(reason.String)
	e.StartedAt, e.EndedAt = e.StartedAt.UTC(), timeOf(ended)
	var ok bool
	if e.Metadata, ok = decodeObject(metadata); !ok {
		s.warnColumn("jetmon_events", "metadata", e.ID)
	}
	return e, nil
}

// queryEvents runs an eventColumns query.
func (s *Store) queryEvents(ctx context.Context, query string, args ...any) ([]uptime.Event, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.Event
	for rows.Next() {
		e, err := s.scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// OpenEvents returns every open event (any check type) of blogIDs, in id
// order, with one query per 1,000 distinct ids (an API page is one).
func (s *Store) OpenEvents(ctx context.Context, blogIDs []int64) ([]uptime.Event, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(blogIDs)))
	var out []uptime.Event
	for part := range slices.Chunk(ids, maxInList) {
		events, err := s.queryEvents(ctx, `SELECT `+eventColumns+` FROM jetmon_events
			WHERE ended_at IS NULL AND blog_id IN (`+placeholders(len(part))+`) ORDER BY id`, anys(part)...)
		if err != nil {
			return nil, fmt.Errorf("open events of %d sites: %w", len(ids), err)
		}
		out = append(out, events...)
	}
	return out, nil
}

// ListEvents returns a page of one site's events, newest (highest id)
// first.
func (s *Store) ListEvents(ctx context.Context, q api.EventQuery) ([]uptime.Event, error) {
	if q.Limit <= 0 || q.Limit > maxEventPage {
		return nil, fmt.Errorf("list events: limit %d must be 1 to %d", q.Limit, maxEventPage)
	}
	query := `SELECT ` + eventColumns + ` FROM jetmon_events WHERE blog_id = ?`
	args := []any{q.BlogID}
	if q.BeforeID > 0 {
		query += ` AND id < ?`
		args = append(args, q.BeforeID)
	}
	if len(q.States) > 0 {
		query += ` AND state IN (` + placeholders(len(q.States)) + `)`
		args = append(args, anys(q.States)...)
	}
	if len(q.CheckTypes) > 0 {
		query += ` AND check_type IN (` + placeholders(len(q.CheckTypes)) + `)`
		args = append(args, anys(q.CheckTypes)...)
	}
	if !q.StartedAtGTE.IsZero() {
		query += ` AND started_at >= ?`
		args = append(args, ms(q.StartedAtGTE))
	}
	if !q.StartedAtLT.IsZero() {
		query += ` AND started_at < ?`
		args = append(args, ms(q.StartedAtLT))
	}
	if q.Active != nil {
		if *q.Active {
			query += ` AND ended_at IS NULL`
		} else {
			query += ` AND ended_at IS NOT NULL`
		}
	}
	out, err := s.queryEvents(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list events of site %d: %w", q.BlogID, err)
	}
	return out, nil
}

// TransitionCounts counts the transitions of each event of eventIDs with one
// GROUP BY per 1,000 distinct ids; events without any are absent.
func (s *Store) TransitionCounts(ctx context.Context, eventIDs []int64) (map[int64]int, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(eventIDs)))
	out := make(map[int64]int, len(ids))
	for part := range slices.Chunk(ids, maxInList) {
		if err := s.countTransitions(ctx, part, out); err != nil {
			return nil, fmt.Errorf("count transitions of %d events: %w", len(ids), err)
		}
	}
	return out, nil
}

// countTransitions adds the counts of ids to out.
func (s *Store) countTransitions(ctx context.Context, ids []int64, out map[int64]int) error {
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, COUNT(*) FROM jetmon_event_transitions
		WHERE event_id IN (`+placeholders(len(ids))+`) GROUP BY event_id`, anys(ids)...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// GetEvent returns event id, or api.ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, id int64) (uptime.Event, error) {
	e, err := s.scanEvent(s.db.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM jetmon_events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.Event{}, notFound("event %d", id)
	}
	if err != nil {
		return uptime.Event{}, fmt.Errorf("get event %d: %w", id, err)
	}
	return e, nil
}

// EventsOverlapping returns blogID's events that were open at any time in
// [from, to) — started before to and not ended by from — in started_at
// order.
func (s *Store) EventsOverlapping(ctx context.Context, blogID int64, from, to time.Time) ([]uptime.Event, error) {
	out, err := s.queryEvents(ctx, `SELECT `+eventColumns+` FROM jetmon_events
		WHERE blog_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?) ORDER BY started_at, id`,
		blogID, ms(to), ms(from))
	if err != nil {
		return nil, fmt.Errorf("events of site %d overlapping %s..%s: %w", blogID, stamp(from), stamp(to), err)
	}
	return out, nil
}
