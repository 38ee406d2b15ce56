package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// auditInTx writes one jetmon_audit_log row in the batch's transaction.
func auditInTx(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx,
		"INSERT INTO jetmon_audit_log (event_type, source) VALUES ('test', 'commit-with')")
	return err
}

func TestIngestCommitWith(t *testing.T) {
	t.Parallel()
	errInTx := errors.New("in-tx write failed")
	tests := []struct {
		name       string
		advance    uint64 // the fence's epoch before the commit
		inTx       func(ctx context.Context, tx *sql.Tx) error
		wantErr    error // nil: committed
		wantCalled bool
		wantAudit  int
	}{
		{name: "inTx commits with the batch", advance: testEpoch,
			inTx: auditInTx, wantCalled: true, wantAudit: 1},
		{name: "an inTx error rolls the batch back", advance: testEpoch,
			inTx: func(ctx context.Context, tx *sql.Tx) error {
				if err := auditInTx(ctx, tx); err != nil {
					return err
				}
				return errInTx
			}, wantErr: errInTx, wantCalled: true},
		{name: "a fenced commit never calls inTx", advance: testEpoch + 1,
			inTx: auditInTx, wantErr: sqlstore.ErrFenced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.NewDB(t)
			if err := sqlstore.NewFence(db).Advance(t.Context(), tt.advance, "test"); err != nil {
				t.Fatalf("advance: %v", err)
			}
			in, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{})
			if err != nil {
				t.Fatalf("NewIngest: %v", err)
			}
			insertSite(t, db, 1, 1, nil)
			insertSite(t, db, 2, 2, nil)
			called := false
			err = in.CommitWith(t.Context(), testEpoch, fullBatch(0, 40), func(ctx context.Context, tx *sql.Tx) error {
				called = true
				return tt.inTx(ctx, tx)
			})
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("CommitWith = %v, want %v", err, tt.wantErr)
			}
			if called != tt.wantCalled {
				t.Errorf("inTx called = %v, want %v", called, tt.wantCalled)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM jetmon_audit_log"); n != tt.wantAudit {
				t.Errorf("audit rows = %d, want %d", n, tt.wantAudit)
			}
			wantSeq, wantWritten := uint64(40), true
			if tt.wantErr != nil {
				wantSeq, wantWritten = 0, false
			}
			if n := written(t, db); (n > 0) != wantWritten {
				t.Errorf("batch rows written = %d, want written %v", n, wantWritten)
			}
			if seq, err := in.Watermark(t.Context(), "coordinator"); err != nil || seq != wantSeq {
				t.Errorf("Watermark = %d, %v, want %d", seq, err, wantSeq)
			}
		})
	}
}
