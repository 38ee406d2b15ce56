package apistore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ListTransitions returns event eventID's transitions with id > afterID in
// id order, at most limit (limit <= 0: all). Each carries its event's check
// type. An unknown event has none.
func (s *Store) ListTransitions(ctx context.Context, eventID, afterID int64, limit int) ([]uptime.Transition, error) {
	query := `SELECT t.id, t.event_id, t.blog_id, e.check_type, t.severity_before, t.severity_after,
		t.state_before, t.state_after, t.reason, t.source, t.metadata, t.changed_at
		FROM jetmon_event_transitions t JOIN jetmon_events e ON e.id = t.event_id
		WHERE t.event_id = ? AND t.id > ? ORDER BY t.id`
	args := []any{eventID, afterID}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("transitions of event %d: %w", eventID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.Transition
	for rows.Next() {
		tr, err := s.scanTransition(rows)
		if err != nil {
			return nil, fmt.Errorf("transitions of event %d: %w", eventID, err)
		}
		out = append(out, tr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transitions of event %d: %w", eventID, err)
	}
	return out, nil
}

// scanTransition reads one row of ListTransitions' query.
func (s *Store) scanTransition(r rowScanner) (uptime.Transition, error) {
	var (
		tr                      uptime.Transition
		sevBefore, sevAfter     sql.NullInt16
		stateBefore, stateAfter sql.NullString
		reason                  string
		metadata                []byte
	)
	if err := r.Scan(&tr.ID, &tr.EventID, &tr.BlogID, &tr.CheckType, &sevBefore, &sevAfter, &stateBefore,
		&stateAfter, &reason, &tr.Source, &metadata, &tr.ChangedAt); err != nil {
		return uptime.Transition{}, fmt.Errorf("scan transition: %w", err)
	}
	tr.SeverityBefore, tr.SeverityAfter = severityOf(sevBefore), severityOf(sevAfter)
	tr.StateBefore, tr.StateAfter = uptime.State(stateBefore.String), uptime.State(stateAfter.String)
	tr.Reason, tr.ChangedAt = uptime.Reason(reason), tr.ChangedAt.UTC()
	var ok bool
	if tr.Metadata, ok = decodeObject(metadata); !ok {
		s.warnColumn("jetmon_event_transitions", "metadata", tr.ID)
	}
	return tr, nil
}

// severityOf is a nullable severity column.
func severityOf(v sql.NullInt16) *uptime.Severity {
	if !v.Valid {
		return nil
	}
	sev := uptime.Severity(v.Int16)
	return &sev
}
