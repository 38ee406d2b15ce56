package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ErrWatermarkMoved means the consumer's watermark was not the batch's
// FromSeq when the commit ran: this batch or a later one is already
// committed (by this coordinator or another), and the commit changed
// nothing.
var ErrWatermarkMoved = errors.New("ingest watermark moved")

// DefaultIngestChunkRows is how many rows one ingest statement writes when
// IngestOpts.ChunkRows is zero.
const DefaultIngestChunkRows = 500

// maxIngestChunkRows keeps the widest statement (history, 17 columns) under
// the protocol's 65,535 placeholders.
const maxIngestChunkRows = 3000

// maxConsumerLen is jetmon_ingest_progress.consumer's length.
const maxConsumerLen = 64

// IngestOpts configures Ingest. The zero value is usable.
type IngestOpts struct {
	// ChunkRows is how many rows one multi-row statement writes (default
	// DefaultIngestChunkRows, at most 3000).
	ChunkRows int
	// Logger gets one DEBUG line per committed batch. Nil discards.
	Logger *slog.Logger
}

// Rollup is one site-hour of check statistics, added to
// jetmon_check_rollups_hourly. It has coordinator.Rollup's fields in the
// same order, so the wiring converts with sqlstore.Rollup(r). The RTT and
// phase sums, minimum and maximum cover only the RTTSamples checks that
// reported an RTT; with RTTSamples 0 the minimum and maximum are not
// recorded (the columns stay NULL until a batch has samples).
type Rollup struct {
	BlogID   int64
	Hour     time.Time // truncated to the hour in UTC before writing
	Checks   int
	Failures int
	RTTSumMs int64
	RTTMinMs int64
	RTTMaxMs int64
	// RTTSamples counts the checks the RTT figures and phase sums cover.
	RTTSamples int
	DNSSumMs   int64
	TCPSumMs   int64
	TLSSumMs   int64
	TTFBSumMs  int64
}

// IngestBatch is everything one batch of results writes, in one transaction.
// It mirrors coordinator.IngestBatch field for field.
type IngestBatch struct {
	Consumer string // the results-stream consumer whose watermark advances
	// FromSeq is the watermark the batch starts from and ToSeq the one it
	// ends at (ToSeq > FromSeq): the watermark advances only from FromSeq,
	// so a batch is committed at most once.
	FromSeq, ToSeq uint64
	History        []uptime.ProbeResult // raw rows: failures, state changes, sampled successes
	Rollups        []Rollup
	LastChecked    map[int64]time.Time // blog_id -> last check time
	SSLExpiry      map[int64]time.Time // blog_id -> leaf expiry, only when changed
}

// validate checks what the schema and the watermark need.
func (b IngestBatch) validate() error {
	switch {
	case b.Consumer == "" || len(b.Consumer) > maxConsumerLen:
		return fmt.Errorf("consumer %q: must be 1 to %d bytes", b.Consumer, maxConsumerLen)
	case b.ToSeq <= b.FromSeq:
		return fmt.Errorf("sequences %d..%d: ToSeq must be greater than FromSeq", b.FromSeq, b.ToSeq)
	}
	return nil
}

// Ingest commits result batches: check history, hourly roll-ups,
// last_checked_at and ssl_expiry_date, each batch in one transaction fenced
// by the coordinator epoch and guarded by the consumer's watermark.
type Ingest struct {
	db     *sql.DB
	chunk  int
	logger *slog.Logger
}

// NewIngest returns an ingest store on db (a pool from Open with the schema
// applied). It does no I/O.
func NewIngest(db *sql.DB, opts IngestOpts) (*Ingest, error) {
	if db == nil {
		return nil, errors.New("new ingest: nil db")
	}
	if opts.ChunkRows < 0 || opts.ChunkRows > maxIngestChunkRows {
		return nil, fmt.Errorf("new ingest: chunk rows %d must be 0 to %d", opts.ChunkRows, maxIngestChunkRows)
	}
	if opts.ChunkRows == 0 {
		opts.ChunkRows = DefaultIngestChunkRows
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Ingest{db: db, chunk: opts.ChunkRows, logger: opts.Logger}, nil
}

// Watermark is the highest stream sequence committed for consumer, 0 when
// none was.
func (in *Ingest) Watermark(ctx context.Context, consumer string) (uint64, error) {
	var seq uint64
	err := in.db.QueryRowContext(ctx,
		"SELECT last_seq FROM jetmon_ingest_progress WHERE consumer = ?", consumer).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read watermark of %s: %w", consumer, err)
	}
	return seq, nil
}

// Commit writes b in one transaction. It first locks the fencing row and
// fails with an error wrapping ErrFenced unless the row holds epoch, then
// moves the consumer's watermark from b.FromSeq to b.ToSeq and fails with
// an error wrapping ErrWatermarkMoved if it was not at b.FromSeq; either
// way nothing is written. Then it inserts the history rows, adds the
// roll-ups, and sets last_checked_at (never backwards) and ssl_expiry_date
// on every row of each blog, keeping updated_at so the incremental site sync
// does not take the write for a configuration change. Other errors (lost
// connection, deadlock) leave nothing written either, and the batch may be
// retried as is.
func (in *Ingest) Commit(ctx context.Context, epoch uint64, b IngestBatch) error {
	return in.CommitWith(ctx, epoch, b, nil)
}

// CommitWith is Commit that also runs inTx, when not nil, inside the same
// transaction after the batch's own writes: the coordinator's event
// changes, legacy projection and outbox rows then commit atomically with
// the batch and its watermark, or not at all. inTx runs only once the
// fence and the watermark were checked; an error from it rolls everything
// back and is returned wrapped. inTx must not commit or roll back tx.
func (in *Ingest) CommitWith(ctx context.Context, epoch uint64, b IngestBatch,
	inTx func(ctx context.Context, tx *sql.Tx) error) error {
	if err := b.validate(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	start := time.Now()
	err := WithTx(ctx, in.db, func(tx *sql.Tx) error {
		if err := HoldEpoch(ctx, tx, epoch); err != nil {
			return err
		}
		if err := advanceWatermark(ctx, tx, b); err != nil {
			return err
		}
		if err := in.write(ctx, tx, b); err != nil {
			return err
		}
		if inTx == nil {
			return nil
		}
		if err := inTx(ctx, tx); err != nil {
			return fmt.Errorf("in batch transaction: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit %s batch %d..%d: %w", b.Consumer, b.FromSeq, b.ToSeq, err)
	}
	in.logger.Debug("result batch committed", "component", "sqlstore", "consumer", b.Consumer,
		"to_seq", b.ToSeq, "history", len(b.History), "rollups", len(b.Rollups),
		"last_checked", len(b.LastChecked), "ssl_expiry", len(b.SSLExpiry), "duration", time.Since(start))
	return nil
}

// advanceWatermark moves b.Consumer's watermark from b.FromSeq to b.ToSeq,
// creating the row when absent and b.FromSeq is 0.
func advanceWatermark(ctx context.Context, tx *sql.Tx, b IngestBatch) error {
	res, err := tx.ExecContext(ctx,
		"UPDATE jetmon_ingest_progress SET last_seq = ? WHERE consumer = ? AND last_seq = ?",
		b.ToSeq, b.Consumer, b.FromSeq)
	if err != nil {
		return fmt.Errorf("advance watermark: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("advance watermark: %w", err)
	}
	if n == 1 {
		return nil
	}
	moved := fmt.Errorf("watermark of %s is not %d: %w", b.Consumer, b.FromSeq, ErrWatermarkMoved)
	if b.FromSeq != 0 {
		return moved
	}
	_, err = tx.ExecContext(ctx,
		"INSERT INTO jetmon_ingest_progress (consumer, last_seq) VALUES (?, ?)", b.Consumer, b.ToSeq)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == errDupEntry {
		return moved
	}
	if err != nil {
		return fmt.Errorf("create watermark: %w", err)
	}
	return nil
}

// errDupEntry is MySQL's ER_DUP_ENTRY.
const errDupEntry = 1062

// write runs the batch's statements in tx, chunk by chunk.
func (in *Ingest) write(ctx context.Context, tx *sql.Tx, b IngestBatch) error {
	steps := []struct {
		what  string
		stmts []statement
	}{
		{"insert history", historyStatements(b.History, in.chunk)},
		{"add rollups", rollupStatements(b.Rollups, in.chunk)},
		{"set last_checked_at", lastCheckedStatements(b.LastChecked, in.chunk)},
		{"set ssl_expiry_date", sslExpiryStatements(b.SSLExpiry, in.chunk)},
	}
	for _, step := range steps {
		for _, st := range step.stmts {
			if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
				return fmt.Errorf("%s: %w", step.what, err)
			}
		}
	}
	return nil
}
