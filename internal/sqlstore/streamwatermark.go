package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// StreamWatermark is Watermark together with the identity of the stream the
// watermark belongs to ("" when unknown or when there is no row yet).
func (in *Ingest) StreamWatermark(ctx context.Context, consumer string) (seq uint64, streamID string, err error) {
	err = in.db.QueryRowContext(ctx,
		"SELECT last_seq, stream_id FROM jetmon_ingest_progress WHERE consumer = ?", consumer).Scan(&seq, &streamID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read watermark of %s: %w", consumer, err)
	}
	return seq, streamID, nil
}

// RebaseWatermark sets consumer's watermark to seq of the stream streamID:
// 0 when the stream was recreated and its sequences restarted, or the
// current value when a watermark written before stream ids were recorded is
// adopted. A leader of an older epoch still committing fails its
// compare-and-set afterwards.
func (in *Ingest) RebaseWatermark(ctx context.Context, consumer, streamID string, seq uint64) error {
	_, err := in.db.ExecContext(ctx, `INSERT INTO jetmon_ingest_progress (consumer, last_seq, stream_id)
		VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE last_seq = VALUES(last_seq), stream_id = VALUES(stream_id)`,
		consumer, seq, streamID)
	if err != nil {
		return fmt.Errorf("rebase watermark of %s: %w", consumer, err)
	}
	return nil
}
