package sqlstore_test

import (
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestStreamWatermark(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := t.Context()
	in, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if seq, id, err := in.StreamWatermark(ctx, "c"); err != nil || seq != 0 || id != "" {
		t.Fatalf("no row: %d %q %v", seq, id, err)
	}
	if err := in.RebaseWatermark(ctx, "c", "stream-1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE jetmon_ingest_progress SET last_seq = 42 WHERE consumer = 'c'"); err != nil {
		t.Fatal(err)
	}
	if seq, id, err := in.StreamWatermark(ctx, "c"); err != nil || seq != 42 || id != "stream-1" {
		t.Fatalf("after commits: %d %q %v", seq, id, err)
	}
	if err := in.RebaseWatermark(ctx, "c", "stream-2", 0); err != nil {
		t.Fatal(err)
	}
	if seq, id, err := in.StreamWatermark(ctx, "c"); err != nil || seq != 0 || id != "stream-2" {
		t.Fatalf("after reset: %d %q %v", seq, id, err)
	}
	if wm, err := in.Watermark(ctx, "c"); err != nil || wm != 0 {
		t.Fatalf("Watermark after reset = %d, %v", wm, err)
	}
}
