package deliverystore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Attempt outcomes written here.
const (
	outcomeSending     = "sending"
	outcomeRateLimited = "rate_limited"
)

// rateWindow is the window of an alert contact's max_per_hour.
const rateWindow = time.Hour

// Every update of a delivery names it by id and forces the primary key:
// with few rows the optimizer may otherwise scan a status index and lock
// other deliveries' entries, which deadlocks concurrent claims.

// minRetryIn is the least a Busy claim asks the caller to wait.
const minRetryIn = 100 * time.Millisecond

// Claim takes delivery c.DeliveryID's lease for c.NodeID until
// c.Now+c.Lease with a conditional update (status pending, generation
// c.Generation, due, no unexpired lease) whose RowsAffected must be 1, so
// of two deliverers that receive the same job only one sends it; the
// update also counts the attempt. With c.RateCap the alert contact's row
// is then locked and its attempts of the last hour counted: at
// max_per_hour the delivery is abandoned (last_status_code 429) with a
// rate_limited attempt. Otherwise the attempt is inserted as "sending".
// All in one transaction.
func (s *Store) Claim(ctx context.Context, c ClaimRequest) (ClaimResult, error) {
	var out ClaimResult
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		now := c.Now.UTC()
		res, err := tx.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY)
			SET claimed_by = ?, claim_until = ?, attempt = attempt + 1, last_attempt_at = ?
			WHERE id = ? AND generation = ? AND status = 'pending'
			  AND (claim_until IS NULL OR claim_until < ?) AND (next_attempt_at IS NULL OR next_attempt_at <= ?)`,
			c.NodeID, now.Add(c.Lease), now, c.DeliveryID, c.Generation, now, now)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		// A locking read (the update holds the row already): a plain read
		// here would fix the transaction's snapshot before the rate cap's
		// lock, and its count would miss attempts committed meanwhile.
		row, err := scanRow(tx.QueryRowContext(ctx,
			`SELECT `+rowColumns+` FROM jetmon_deliveries WHERE id = ? FOR UPDATE`, c.DeliveryID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out = ClaimResult{Outcome: Settled}
			return nil
		case err != nil:
			return fmt.Errorf("read claimed row: %w", err)
		case n != 1:
			out = notClaimed(row, c)
			return nil
		}
		out, err = s.claimed(ctx, tx, row, c)
		return err
	})
	if err != nil {
		return ClaimResult{}, fmt.Errorf("claim delivery %d: %w", c.DeliveryID, err)
	}
	return out, nil
}

// notClaimed says why the conditional update matched nothing.
func notClaimed(row Row, c ClaimRequest) ClaimResult {
	switch {
	case row.Status != uptime.DeliveryPending || row.Generation != c.Generation:
		return ClaimResult{Outcome: Settled, Row: row}
	case row.ClaimUntil.After(c.Now):
		return ClaimResult{Outcome: Busy, Row: row, RetryIn: max(row.ClaimUntil.Sub(c.Now), minRetryIn)}
	case row.NextAttemptAt.After(c.Now):
		return ClaimResult{Outcome: Busy, Row: row, RetryIn: max(row.NextAttemptAt.Sub(c.Now), minRetryIn)}
	default: // a lease that ends exactly now
		return ClaimResult{Outcome: Busy, Row: row, RetryIn: minRetryIn}
	}
}

// claimed finishes a won claim: the rate cap, then the attempt row.
func (s *Store) claimed(ctx context.Context, tx *sql.Tx, row Row, c ClaimRequest) (ClaimResult, error) {
	if c.RateCap && row.Kind == uptime.DeliveryAlert {
		limit, err := rateLimit(ctx, tx, row.DestinationID, c.Now)
		if err != nil {
			return ClaimResult{}, err
		}
		if limit > 0 {
			return s.rateLimited(ctx, tx, row, c, limit)
		}
	}
	id, err := insertAttempt(ctx, tx, row, c.NodeID, outcomeSending, 0, "", c.Now, time.Time{})
	if err != nil {
		return ClaimResult{}, err
	}
	return ClaimResult{Outcome: Claimed, Row: row, AttemptID: id}, nil
}

// rateLimit locks alert contact id and returns its max_per_hour when its
// attempts of the last hour (those that reached or may have reached the
// transport) already reach it; 0 when under the cap, uncapped or gone.
func rateLimit(ctx context.Context, tx *sql.Tx, contactID int64, now time.Time) (int, error) {
	var limit int
	err := tx.QueryRowContext(ctx, `SELECT max_per_hour FROM jetmon_alert_contacts WHERE id = ? FOR UPDATE`,
		contactID).Scan(&limit)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && limit == 0) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lock alert contact %d: %w", contactID, err)
	}
	// The transaction's first plain read: its snapshot is taken now, after
	// the contact's lock was granted, so it sees every attempt committed by
	// the deliverers that held the lock before.
	var sent int
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM jetmon_delivery_attempts
		WHERE kind = 'alert' AND destination_id = ? AND started_at > ?
		  AND outcome IN ('sending', 'delivered', 'retry', 'abandoned')`,
		contactID, now.UTC().Add(-rateWindow)).Scan(&sent)
	if err != nil {
		return 0, fmt.Errorf("count attempts of alert contact %d: %w", contactID, err)
	}
	if sent < limit {
		return 0, nil
	}
	return limit, nil
}

// rateLimited abandons a claimed alert delivery at its contact's cap.
func (s *Store) rateLimited(ctx context.Context, tx *sql.Tx, row Row, c ClaimRequest, limit int) (ClaimResult, error) {
	note := fmt.Sprintf("rate-limited: contact %d exceeded max_per_hour=%d", row.DestinationID, limit)
	_, err := tx.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY) SET status = 'abandoned', last_status_code = 429,
		last_response = ?, next_attempt_at = NULL, claimed_by = NULL, claim_until = NULL WHERE id = ?`, note, row.ID)
	if err != nil {
		return ClaimResult{}, fmt.Errorf("abandon rate-limited delivery: %w", err)
	}
	id, err := insertAttempt(ctx, tx, row, c.NodeID, outcomeRateLimited, 429, note, c.Now, c.Now)
	if err != nil {
		return ClaimResult{}, err
	}
	row.Status, row.LastStatusCode, row.LastResponse = uptime.DeliveryAbandoned, 429, note
	row.ClaimedBy, row.ClaimUntil, row.NextAttemptAt = "", time.Time{}, time.Time{}
	return ClaimResult{Outcome: RateLimited, Row: row, AttemptID: id}, nil
}

func insertAttempt(ctx context.Context, tx *sql.Tx, row Row, node, outcome string, code int, response string,
	started, finished time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO jetmon_delivery_attempts (delivery_id, kind, destination_id, attempt,
		node_id, outcome, status_code, response, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row.ID, string(row.Kind), row.DestinationID, row.Attempt, node, outcome, nullInt(code), nullString(response),
		started.UTC(), nullTime(finished))
	if err != nil {
		return 0, fmt.Errorf("insert attempt: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("insert attempt: %w", err)
	}
	return id, nil
}

// Finish records a claimed attempt's outcome in one transaction: the
// delivery row (only while f.NodeID holds its lease; a delivered outcome
// is recorded on any pending row of f's generation, so a success is never
// lost) and the attempt row (always). It reports whether the delivery row
// changed.
func (s *Store) Finish(ctx context.Context, f Finish) (bool, error) {
	var owned bool
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		cond, args := `id = ? AND generation = ? AND status = 'pending'`, []any{f.DeliveryID, f.Generation}
		if f.Status != uptime.DeliveryDelivered {
			cond, args = cond+` AND claimed_by = ?`, append(args, f.NodeID)
		}
		var delivered any
		if f.Status == uptime.DeliveryDelivered {
			delivered = f.Now.UTC()
		}
		res, err := tx.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY) SET status = ?,
			attempt = IF(?, GREATEST(attempt, 1) - 1, attempt), next_attempt_at = ?, last_status_code = ?,
			last_response = ?, delivered_at = ?, claimed_by = NULL, claim_until = NULL WHERE `+cond,
			append([]any{string(f.Status), f.Refund, nullTime(f.NextAttemptAt), f.StatusCode,
				nullString(clip(f.Response, uptime.MaxResponseBytes)), delivered}, args...)...)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		owned = n == 1
		_, err = tx.ExecContext(ctx, `UPDATE jetmon_delivery_attempts SET outcome = ?, status_code = ?, response = ?,
			error = ?, next_attempt_at = ?, finished_at = ? WHERE id = ?`,
			f.Outcome, f.StatusCode, nullString(clip(f.Response, uptime.MaxResponseBytes)),
			nullString(clip(f.Error, maxError)), nullTime(f.NextAttemptAt), f.Now.UTC(), f.AttemptID)
		if err != nil {
			return fmt.Errorf("update attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("finish attempt of delivery %d: %w", f.DeliveryID, err)
	}
	return owned, nil
}

// maxError bounds jetmon_delivery_attempts.error (VARCHAR(1024)).
const maxError = 1024

// clip returns s as valid UTF-8 of at most n bytes (a VARCHAR(n) column
// holds n characters, so n bytes always fit).
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
