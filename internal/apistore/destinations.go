package apistore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
)

// destTable is a table of delivery destinations (jetmon_webhooks,
// jetmon_alert_contacts): rows scoped to a tenant by owner_tenant_id and
// read by scan from columns, which never include a secret. Its methods are
// the reads and writes both tables share; the exported Store methods wrap
// their errors with what they were doing.
type destTable[T any] struct {
	name    string // the table
	noun    string // one row, in errors: "webhook"
	columns string // what scan reads
	scan    func(rowScanner) (T, error)
}

// ownedBy narrows a query on an owner_tenant_id table to tenant t (all
// rows for an unscoped caller).
func ownedBy(query string, args []any, t api.Tenant) (string, []any) {
	if t == "" {
		return query, args
	}
	return query + ` AND owner_tenant_id = ?`, append(args, string(t))
}

// list returns the rows the tenant owns (every row for an unscoped caller)
// in id order.
func (d destTable[T]) list(ctx context.Context, q querier, t api.Tenant) ([]T, error) {
	query, args := ownedBy(`SELECT `+d.columns+` FROM `+d.name+` WHERE 1 = 1`, nil, t)
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []T
	for rows.Next() {
		v, err := d.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return out, nil
}

// get reads row id on q; forUpdate locks it. api.ErrNotFound when it does
// not exist or the tenant does not own it.
func (d destTable[T]) get(ctx context.Context, q querier, id int64, t api.Tenant, forUpdate bool) (T, error) {
	query, args := ownedBy(`SELECT `+d.columns+` FROM `+d.name+` WHERE id = ?`, []any{id}, t)
	if forUpdate {
		query += ` FOR UPDATE`
	}
	v, err := d.scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, notFound("%s %d", d.noun, id)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read: %w", err)
	}
	return v, nil
}

// insert runs an INSERT of one row and returns the row as stored, in one
// transaction.
func (d destTable[T]) insert(ctx context.Context, db *sql.DB, query string, args ...any) (T, error) {
	var out T
	err := sqlstore.WithTx(ctx, db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert id: %w", err)
		}
		out, err = d.get(ctx, tx, id, "", false)
		return err
	})
	return out, err
}

// patchFunc returns the SET assignments of a patch of cur, the row as read
// and locked.
type patchFunc[T any] func(cur T) (setList, error)

// update applies patch to row id in one transaction and returns the row as
// updated (as it was when patch sets nothing). api.ErrNotFound when it does
// not exist or the tenant does not own it.
func (d destTable[T]) update(ctx context.Context, db *sql.DB, id int64, t api.Tenant, patch patchFunc[T]) (T, error) {
	var out T
	err := sqlstore.WithTx(ctx, db, func(tx *sql.Tx) error {
		cur, err := d.get(ctx, tx, id, t, true)
		if err != nil {
			return err
		}
		l, err := patch(cur)
		if err != nil || len(l.set) == 0 {
			out = cur
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+d.name+` SET `+strings.Join(l.set, ", ")+` WHERE id = ?`,
			append(l.args, id)...); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		out, err = d.get(ctx, tx, id, "", false)
		return err
	})
	return out, err
}

// delete deletes row id (its deliveries stay, for the record).
// api.ErrNotFound when it does not exist or the tenant does not own it.
func (d destTable[T]) delete(ctx context.Context, db *sql.DB, id int64, t api.Tenant) error {
	query, args := ownedBy(`DELETE FROM `+d.name+` WHERE id = ?`, []any{id}, t)
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", d.noun, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", d.noun, id, err)
	}
	if n == 0 {
		return notFound("delete %s %d", d.noun, id)
	}
	return nil
}

// setList collects the SET assignments ("col = ?") of a patch and their
// arguments.
type setList struct {
	set  []string
	args []any
}

// add assigns v to col.
func (l *setList) add(col string, v any) {
	l.set = append(l.set, col+" = ?")
	l.args = append(l.args, v)
}
