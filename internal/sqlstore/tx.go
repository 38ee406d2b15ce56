package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// WithTx runs fn in a transaction on db. It commits when fn returns nil and
// rolls back when fn returns an error or panics (the panic is re-raised after
// the rollback). fn's error is returned unchanged, joined with the rollback's
// error if that failed too; begin and commit errors are wrapped. fn must not
// commit or roll back tx itself, and must not keep tx after returning.
func WithTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin tx: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && err != nil {
			err = errors.Join(err, fmt.Errorf("rollback tx: %w", rbErr))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit tx: %w", err)
	}
	return nil
}
