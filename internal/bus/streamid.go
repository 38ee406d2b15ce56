package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ResultsStream identifies the JETMON_RESULTS stream by its creation time
// (sequences restart when the stream is recreated) and returns its last
// sequence.
func ResultsStream(ctx context.Context, js jetstream.JetStream) (id string, lastSeq uint64, err error) {
	s, err := js.Stream(ctx, StreamResults)
	if err != nil {
		return "", 0, fmt.Errorf("results stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("results stream: %w", err)
	}
	return info.Created.UTC().Format(time.RFC3339Nano), info.State.LastSeq, nil
}
