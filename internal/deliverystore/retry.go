package deliverystore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Retry resets a failed or abandoned delivery for a manual retry: pending,
// attempt 0, due at now, last_* cleared, the lease released and the
// generation raised; its attempts are kept. It returns the row before and
// after, in one transaction. ErrNotFound; ErrNotRetryable (with the
// current status in the message) for any other status.
func (s *Store) Retry(ctx context.Context, id int64, now time.Time) (before, after Row, err error) {
	err = sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		before, err = scanRow(tx.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM jetmon_deliveries WHERE id = ? FOR UPDATE`, id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("delivery %d: %w", id, ErrNotFound)
		case err != nil:
			return fmt.Errorf("lock delivery: %w", err)
		case before.Status != uptime.DeliveryFailed && before.Status != uptime.DeliveryAbandoned:
			return fmt.Errorf("delivery %d is %s: %w", id, before.Status, ErrNotRetryable)
		}
		_, err = tx.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY) SET status = 'pending', attempt = 0, next_attempt_at = ?,
			last_status_code = NULL, last_response = NULL, last_attempt_at = NULL, delivered_at = NULL,
			claimed_by = NULL, claim_until = NULL, generation = generation + 1 WHERE id = ?`, now.UTC(), id)
		if err != nil {
			return fmt.Errorf("reset delivery: %w", err)
		}
		after, err = scanRow(tx.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM jetmon_deliveries WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("read reset delivery: %w", err)
		}
		return nil
	})
	if err != nil {
		return Row{}, Row{}, fmt.Errorf("retry delivery %d: %w", id, err)
	}
	return before, after, nil
}

// UndoRetry restores before's status, attempt, next attempt and last_*
// (keeping the raised generation, so the next retry's job gets a fresh
// message id) when the retry's job could not be published: only while
// the row is still as Retry left it (pending, attempt 0, unclaimed).
func (s *Store) UndoRetry(ctx context.Context, before Row) error {
	var code any
	if !before.LastAttemptAt.IsZero() {
		code = before.LastStatusCode
	}
	_, err := s.db.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY) SET status = ?, attempt = ?, next_attempt_at = ?,
		last_status_code = ?, last_response = ?, last_attempt_at = ?, delivered_at = ?
		WHERE id = ? AND generation = ? AND status = 'pending' AND attempt = 0 AND claimed_by IS NULL`,
		string(before.Status), before.Attempt, nullTime(before.NextAttemptAt), code, nullString(before.LastResponse),
		nullTime(before.LastAttemptAt), nullTime(before.DeliveredAt), before.ID, before.Generation+1)
	if err != nil {
		return fmt.Errorf("undo retry of delivery %d: %w", before.ID, err)
	}
	return nil
}
