package deliverystore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// rowColumns are the jetmon_deliveries columns scanRow reads.
const rowColumns = `id, kind, destination_id, transition_id, event_id, blog_id, event_type, severity, payload, status,
	attempt, next_attempt_at, claimed_by, claim_until, generation, transition_at, last_status_code, last_response,
	last_attempt_at, delivered_at, created_at, updated_at`

// scanRow reads one delivery row.
func scanRow(sc scanner) (Row, error) {
	var (
		r                              Row
		kind, status                   string
		severity                       sql.NullInt16
		next, claimUntil, transitionAt sql.NullTime
		lastAttempt, delivered         sql.NullTime
		claimedBy, lastResponse        sql.NullString
		lastStatus                     sql.NullInt32
	)
	err := sc.Scan(&r.ID, &kind, &r.DestinationID, &r.TransitionID, &r.EventID, &r.BlogID, &r.EventType, &severity,
		&r.Payload, &status, &r.Attempt, &next, &claimedBy, &claimUntil, &r.Generation, &transitionAt, &lastStatus,
		&lastResponse, &lastAttempt, &delivered, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return Row{}, err
	}
	r.Kind, r.Status = uptime.DeliveryKind(kind), uptime.DeliveryStatus(status)
	if severity.Valid {
		s := uptime.Severity(severity.Int16)
		r.Severity = &s
	}
	r.NextAttemptAt, r.ClaimUntil, r.TransitionAt = next.Time, claimUntil.Time, transitionAt.Time
	r.LastAttemptAt, r.DeliveredAt = lastAttempt.Time, delivered.Time
	r.ClaimedBy, r.LastResponse, r.LastStatusCode = claimedBy.String, lastResponse.String, int(lastStatus.Int32)
	return r, nil
}

// Row returns delivery id, or ErrNotFound.
func (s *Store) Row(ctx context.Context, id int64) (Row, error) {
	r, err := scanRow(s.db.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM jetmon_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Row{}, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Row{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	return r, nil
}

// FanOut inserts f's deliveries (a row whose (kind, destination,
// transition) exists is left as it is: ON DUPLICATE KEY changes nothing,
// and unlike INSERT IGNORE no other error is swallowed) and f's audit rows
// (unless this transition's were written before), in one transaction. It
// returns the stored rows of f's deliveries in f's order, and what of it
// this call wrote.
func (s *Store) FanOut(ctx context.Context, f FanOut) (FanOutResult, error) {
	var out FanOutResult
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		var err error
		if out.Created, err = insertDeliveries(ctx, tx, f); err != nil {
			return err
		}
		if out.Audited, err = insertAudits(ctx, tx, f); err != nil {
			return err
		}
		out.Rows, err = fannedOutRows(ctx, tx, f)
		return err
	})
	if err != nil {
		return FanOutResult{}, fmt.Errorf("fan out transition %d: %w", f.TransitionID, err)
	}
	return out, nil
}

// insertDeliveries inserts f's deliveries, one statement per kind (in the
// order the kinds first appear), and counts by kind the rows inserted.
func insertDeliveries(ctx context.Context, tx *sql.Tx, f FanOut) (map[uptime.DeliveryKind]int, error) {
	var kinds []uptime.DeliveryKind
	byKind := map[uptime.DeliveryKind][]NewDelivery{}
	for _, d := range f.Deliveries {
		if _, ok := byKind[d.Kind]; !ok {
			kinds = append(kinds, d.Kind)
		}
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	created := map[uptime.DeliveryKind]int{}
	for _, kind := range kinds {
		n, err := insertRows(ctx, tx, f, byKind[kind])
		if err != nil {
			return nil, fmt.Errorf("insert %s deliveries: %w", kind, err)
		}
		created[kind] = n
	}
	return created, nil
}

// insertRows inserts ds as deliveries of f's transition and returns how
// many rows it inserted: an existing row affects none.
func insertRows(ctx context.Context, tx *sql.Tx, f FanOut, ds []NewDelivery) (int, error) {
	values := make([]string, 0, len(ds))
	args := make([]any, 0, 11*len(ds))
	for _, d := range ds {
		var severity any
		if d.Severity != nil {
			severity = uint8(*d.Severity)
		}
		values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)")
		args = append(args, string(d.Kind), d.DestinationID, f.TransitionID, f.EventID, f.BlogID, d.EventType,
			severity, d.Payload, nullTime(f.Now), nullTime(f.TransitionAt))
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id,
		blog_id, event_type, severity, payload, status, next_attempt_at, transition_at) VALUES `+
		strings.Join(values, ", ")+` ON DUPLICATE KEY UPDATE id = id`, args...)
	if err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}

// auditSource is jetmon_audit_log.source of the deliverers' rows.
const auditSource = "deliverer"

// insertAudits writes f's audit rows unless a fan-out of the transition
// wrote them before (they are written together, so one is enough to tell),
// and reports whether it wrote them.
func insertAudits(ctx context.Context, tx *sql.Tx, f FanOut) (bool, error) {
	if len(f.Audits) == 0 {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM jetmon_audit_log
		WHERE event_id = ? AND source = ? AND CAST(JSON_EXTRACT(metadata, '$.transition_id') AS UNSIGNED) = ?`,
		f.EventID, auditSource, f.TransitionID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("find audit rows: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	for _, a := range f.Audits {
		meta, err := json.Marshal(a.Metadata)
		if err != nil {
			return false, fmt.Errorf("encode audit metadata: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO jetmon_audit_log (blog_id, event_id, event_type, source, detail,
			metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, f.BlogID, f.EventID, a.EventType, auditSource,
			clip(a.Detail, maxDetail), meta, f.Now.UTC())
		if err != nil {
			return false, fmt.Errorf("insert audit row: %w", err)
		}
	}
	return true, nil
}

// maxDetail bounds jetmon_audit_log.detail (VARCHAR(1024)).
const maxDetail = 1024

// fannedOutRows reads back the rows of f's deliveries through the unique
// key.
func fannedOutRows(ctx context.Context, tx *sql.Tx, f FanOut) ([]Row, error) {
	if len(f.Deliveries) == 0 {
		return nil, nil
	}
	conds := make([]string, 0, len(f.Deliveries))
	args := make([]any, 0, 3*len(f.Deliveries))
	for _, d := range f.Deliveries {
		conds = append(conds, "(kind = ? AND destination_id = ? AND transition_id = ?)")
		args = append(args, string(d.Kind), d.DestinationID, f.TransitionID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+rowColumns+` FROM jetmon_deliveries WHERE `+
		strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	byKey := map[string]Row{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("read deliveries: %w", err)
		}
		byKey[rowKey(r.Kind, r.DestinationID)] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	out := make([]Row, 0, len(f.Deliveries))
	for _, d := range f.Deliveries {
		r, ok := byKey[rowKey(d.Kind, d.DestinationID)]
		if !ok {
			return nil, fmt.Errorf("delivery %s/%d of transition %d missing after insert", d.Kind, d.DestinationID,
				f.TransitionID)
		}
		out = append(out, r)
	}
	return out, nil
}

func rowKey(kind uptime.DeliveryKind, destinationID int64) string {
	return fmt.Sprintf("%s/%d", kind, destinationID)
}
