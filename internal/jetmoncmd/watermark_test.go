package jetmoncmd

import (
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// TestWatermarkFollowsTheStream: a watermark from another (recreated)
// results stream starts over at 0 instead of skipping the new stream's
// first results; one recorded before stream ids existed is adopted.
func TestWatermarkFollowsTheStream(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := testenv.NewDB(t)
	js, err := jetstream.New(testenv.StartNATS(t).Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureAssets(ctx, js, bus.AssetOpts{}); err != nil {
		t.Fatal(err)
	}
	in, err := sqlstore.NewIngest(db, sqlstore.IngestOpts{})
	if err != nil {
		t.Fatal(err)
	}
	a := streamAwareIngest{ingestAdapter: ingestAdapter{in: in}, js: js, log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name     string
		stream   string
		seq      uint64
		want     uint64
		adoptsID bool
	}{
		{"no row yet", "", 0, 0, true},
		{"another stream", "2020-01-01T00:00:00Z", 50, 0, true},
		{"before stream ids, within the stream", "", 0, 0, true},
		{"before stream ids, beyond the stream", "", 7, 0, true},
	}
	for _, tc := range tests {
		if tc.name != "no row yet" {
			if err := in.RebaseWatermark(ctx, "c", tc.stream, tc.seq); err != nil {
				t.Fatal(err)
			}
		}
		got, err := a.Watermark(ctx, "c")
		if err != nil || got != tc.want {
			t.Errorf("%s: Watermark = %d, %v; want %d", tc.name, got, err, tc.want)
		}
		id, _, err := bus.ResultsStream(ctx, js)
		if err != nil {
			t.Fatal(err)
		}
		if _, stored, _ := in.StreamWatermark(ctx, "c"); stored != id {
			t.Errorf("%s: stored stream id %q, want %q", tc.name, stored, id)
		}
	}
}
