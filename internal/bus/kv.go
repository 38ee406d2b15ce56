package bus

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// kvHandle opens a KV bucket on first use and keeps the handle: opening
// costs a STREAM.INFO request.
type kvHandle struct {
	js     jetstream.JetStream
	bucket string
	mu     sync.Mutex
	kv     jetstream.KeyValue
}

func (h *kvHandle) get(ctx context.Context) (jetstream.KeyValue, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.kv == nil {
		kv, err := h.js.KeyValue(ctx, h.bucket)
		if err != nil {
			return nil, fmt.Errorf("open kv %s: %w", h.bucket, err)
		}
		h.kv = kv
	}
	return h.kv, nil
}
