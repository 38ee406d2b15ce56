package apistore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Delivery rows are the deliverer's; the API reads them (its retry goes
// through api.DeliveryOps).

// deliveryColumns are the jetmon_deliveries columns scanDelivery reads.
const deliveryColumns = `id, kind, destination_id, transition_id, event_id, blog_id, event_type, severity, payload,
       status, attempt, next_attempt_at, last_status_code, last_response, last_attempt_at, delivered_at,
       created_at, updated_at`

// scanDelivery reads one deliveryColumns row.
func scanDelivery(r rowScanner) (uptime.Delivery, error) {
	var (
		d                            uptime.Delivery
		kind, status                 string
		severity                     sql.NullInt16
		code                         sql.NullInt64
		response                     sql.NullString
		next, attempted, deliveredAt sql.NullTime
	)
	if err := r.Scan(&d.ID, &kind, &d.DestinationID, &d.TransitionID, &d.EventID, &d.BlogID, &d.EventType, &severity,
		&d.Payload, &status, &d.Attempt, &next, &code, &response, &attempted, &deliveredAt,
		&d.CreatedAt, &d.UpdatedAt); err != nil {
		return uptime.Delivery{}, err
	}
	d.Kind, d.Status, d.Severity = uptime.DeliveryKind(kind), uptime.DeliveryStatus(status), severityOf(severity)
	d.LastStatusCode, d.LastResponse = int(code.Int64), response.String
	d.NextAttemptAt, d.LastAttemptAt, d.DeliveredAt = timeOf(next), timeOf(attempted), timeOf(deliveredAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}

// ListDeliveries returns a page of one destination's deliveries, newest
// (highest id) first, optionally of one status.
func (s *Store) ListDeliveries(ctx context.Context, q api.DeliveryQuery) ([]uptime.Delivery, error) {
	if q.Limit <= 0 || q.Limit > maxEventPage {
		return nil, fmt.Errorf("list deliveries: limit %d must be 1 to %d", q.Limit, maxEventPage)
	}
	query := `SELECT ` + deliveryColumns + ` FROM jetmon_deliveries WHERE kind = ? AND destination_id = ?`
	args := []any{string(q.Kind), q.DestinationID}
	if q.BeforeID > 0 {
		query += ` AND id < ?`
		args = append(args, q.BeforeID)
	}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(q.Status))
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list %s %d deliveries: %w", q.Kind, q.DestinationID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s %d deliveries: scan: %w", q.Kind, q.DestinationID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s %d deliveries: %w", q.Kind, q.DestinationID, err)
	}
	return out, nil
}

// GetDelivery returns delivery id, or api.ErrNotFound. The caller checks
// that it belongs to the destination it was asked under.
func (s *Store) GetDelivery(ctx context.Context, id int64) (uptime.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM jetmon_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.Delivery{}, notFound("delivery %d", id)
	}
	if err != nil {
		return uptime.Delivery{}, fmt.Errorf("get delivery %d: %w", id, err)
	}
	return d, nil
}

// ListAttempts returns a delivery's attempts in id order (those of earlier
// retry budgets included).
func (s *Store) ListAttempts(ctx context.Context, deliveryID int64) ([]uptime.DeliveryAttempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, delivery_id, attempt, node_id, outcome, status_code, response, error,
		next_attempt_at, started_at, finished_at FROM jetmon_delivery_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.DeliveryAttempt
	for rows.Next() {
		var (
			a               uptime.DeliveryAttempt
			code            sql.NullInt64
			response, cause sql.NullString
			next, finished  sql.NullTime
		)
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &a.NodeID, &a.Outcome, &code, &response, &cause,
			&next, &a.StartedAt, &finished); err != nil {
			return nil, fmt.Errorf("attempts of delivery %d: scan: %w", deliveryID, err)
		}
		a.StatusCode, a.Response, a.Error = int(code.Int64), response.String, cause.String
		a.NextAttemptAt, a.StartedAt, a.FinishedAt = timeOf(next), a.StartedAt.UTC(), timeOf(finished)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of delivery %d: %w", deliveryID, err)
	}
	return out, nil
}
