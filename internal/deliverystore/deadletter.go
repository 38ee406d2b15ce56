package deliverystore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Limits of jetmon_dead_letters columns.
const (
	maxStream   = 64
	maxConsumer = 64
	maxSubject  = 255
	maxReason   = 1024
)

// RecordDeadLetter inserts d unless (stream, stream_seq) was recorded
// before and, when it is new and names a delivery still pending at its
// generation, abandons that delivery with d.AbandonNote, in one
// transaction. It reports whether d was new and whether a delivery was
// abandoned.
func (s *Store) RecordDeadLetter(ctx context.Context, d DeadLetter) (inserted, abandoned bool, err error) {
	headers, err := headersColumn(d.Header)
	if err != nil {
		return false, false, fmt.Errorf("record dead letter %s/%d: %w", d.Stream, d.StreamSeq, err)
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	err = sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO jetmon_dead_letters (stream, stream_seq, consumer, subject,
			deliveries, reason, delivery_id, headers, payload, published_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id`,
			clip(d.Stream, maxStream), d.StreamSeq, clip(d.Consumer, maxConsumer), clip(d.Subject, maxSubject),
			max(d.Deliveries, 0), clip(d.Reason, maxReason), nullInt64(d.DeliveryID), headers, payload,
			nullTime(d.PublishedAt), nowOr(d.Now))
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if inserted = n == 1; !inserted || d.DeliveryID <= 0 {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE jetmon_deliveries FORCE INDEX (PRIMARY) SET status = 'abandoned', last_response = ?,
			next_attempt_at = NULL, claimed_by = NULL, claim_until = NULL
			WHERE id = ? AND status = 'pending' AND generation = ?`,
			clip(d.AbandonNote, uptime.MaxResponseBytes), d.DeliveryID, d.Generation)
		if err != nil {
			return fmt.Errorf("abandon delivery %d: %w", d.DeliveryID, err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("abandon delivery %d: %w", d.DeliveryID, err)
		}
		abandoned = n == 1
		return nil
	})
	if err != nil {
		return false, false, fmt.Errorf("record dead letter %s/%d: %w", d.Stream, d.StreamSeq, err)
	}
	return inserted, abandoned, nil
}

// headersColumn encodes message headers for the JSON column (NULL when
// none).
func headersColumn(h map[string][]string) (any, error) {
	if len(h) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode headers: %w", err)
	}
	return b, nil
}

func nullInt64(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// nowOr is t in UTC, or the current time when t is zero.
func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}
