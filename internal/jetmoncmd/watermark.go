package jetmoncmd

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
)

// streamAwareIngest ties the ingest watermark to the results stream it
// counts: when JETMON_RESULTS was recreated (a new NATS cluster, a wiped
// store) its sequences restart, and an old watermark would skip the new
// stream's first results as already committed.
type streamAwareIngest struct {
	ingestAdapter
	js  jetstream.JetStream
	log *slog.Logger
}

func (a streamAwareIngest) Watermark(ctx context.Context, consumer string) (uint64, error) {
	id, last, err := bus.ResultsStream(ctx, a.js)
	if err != nil {
		return 0, err
	}
	seq, stored, err := a.in.StreamWatermark(ctx, consumer)
	if err != nil {
		return 0, err
	}
	switch {
	case stored == id:
		return seq, nil
	case stored == "" && seq <= last:
		// A watermark from before stream ids were recorded: adopt it.
		return seq, a.in.RebaseWatermark(ctx, consumer, id, seq)
	default:
		if seq > 0 {
			a.log.Warn("results stream was recreated; ingest watermark starts over", "consumer", consumer,
				"old_watermark", seq, "old_stream", stored, "stream", id)
		}
		return 0, a.in.RebaseWatermark(ctx, consumer, id, 0)
	}
}
