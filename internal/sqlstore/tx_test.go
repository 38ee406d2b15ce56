package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestWithTx(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		fn        func(tx *sql.Tx) error // runs after the insert
		wantErr   error
		wantPanic bool
		wantRows  int
	}{
		{name: "nil commits", fn: func(*sql.Tx) error { return nil }, wantRows: 1},
		{name: "error rolls back and is returned unchanged",
			fn: func(*sql.Tx) error { return errBoom }, wantErr: errBoom},
		{name: "panic rolls back and is re-raised",
			fn: func(*sql.Tx) error { panic("boom") }, wantPanic: true},
		{name: "statement error inside rolls back", wantErr: sql.ErrNoRows,
			fn: func(tx *sql.Tx) error {
				var x int
				return tx.QueryRow("SELECT 1 FROM jetmon_outbox WHERE id = 0").Scan(&x)
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			transition := int64(i + 1)
			err, panicked := runTx(t, db, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(t.Context(),
					"INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (?, 's', '{}')", transition)
				if err != nil {
					return err
				}
				return tt.fn(tx)
			})
			if panicked != tt.wantPanic {
				t.Errorf("panicked = %v, want %v", panicked, tt.wantPanic)
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			var n int
			err = db.QueryRowContext(t.Context(),
				"SELECT COUNT(*) FROM jetmon_outbox WHERE transition_id = ?", transition).Scan(&n)
			if err != nil {
				t.Fatalf("count: %v", err)
			}
			if n != tt.wantRows {
				t.Errorf("rows after WithTx = %d, want %d", n, tt.wantRows)
			}
		})
	}
}

// runTx calls WithTx and reports whether it re-raised a panic.
func runTx(t *testing.T, db *sql.DB, fn func(*sql.Tx) error) (err error, panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	return sqlstore.WithTx(t.Context(), db, fn), false
}

func TestWithTxBeginError(t *testing.T) {
	t.Parallel()
	_, dsn := testenv.NewDatabase(t)
	db, err := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	_ = db.Close()
	called := false
	err = sqlstore.WithTx(t.Context(), db, func(*sql.Tx) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("WithTx on a closed pool: err = %v, fn called = %v", err, called)
	}
}
