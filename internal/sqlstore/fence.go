package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrFenced means the fencing row holds another epoch than the caller's: a
// newer coordinator leads (or the caller never advanced the fence), so the
// caller must stop writing. The wiring maps it to coordinator.ErrFenced with
// errors.Is.
var ErrFenced = errors.New("coordinator epoch fenced")

// leaseName is the jetmon_coordinator_lease row of the coordinator. A
// coordinator sharded by bucket range (DESIGN §10) would hold one row per
// shard.
const leaseName = "coordinator"

// Fence is the coordinator's fencing row in jetmon_coordinator_lease. A new
// leader advances it to its epoch (the NATS lease revision), and every
// coordinator transaction first checks, holding the row locked, that it still
// holds that epoch, so a deposed leader can no longer commit.
type Fence struct {
	db *sql.DB
}

// NewFence returns the fencing row of db (a pool from Open with the schema
// applied).
func NewFence(db *sql.DB) *Fence {
	return &Fence{db: db}
}

// Advance records epoch, taken by holder, as current: it creates the row when
// absent and raises a lower epoch; with the same epoch (a retried Advance of
// one term) it only rewrites holder. When the row already holds a higher
// epoch it changes nothing and returns an error wrapping ErrFenced. epoch
// must be positive (KV revisions start at 1).
func (f *Fence) Advance(ctx context.Context, epoch uint64, holder string) error {
	if epoch == 0 {
		return errors.New("advance fence: epoch must be positive")
	}
	err := WithTx(ctx, f.db, func(tx *sql.Tx) error {
		// The no-op upsert creates the row when absent and locks it either way.
		_, err := tx.ExecContext(ctx,
			`INSERT INTO jetmon_coordinator_lease (name, epoch, holder) VALUES (?, ?, ?)
			 ON DUPLICATE KEY UPDATE name = name`, leaseName, epoch, holder)
		if err != nil {
			return fmt.Errorf("ensure fencing row: %w", err)
		}
		var cur uint64
		var curHolder string
		err = tx.QueryRowContext(ctx,
			"SELECT epoch, holder FROM jetmon_coordinator_lease WHERE name = ? FOR UPDATE",
			leaseName).Scan(&cur, &curHolder)
		if err != nil {
			return fmt.Errorf("lock fencing row: %w", err)
		}
		if cur > epoch {
			return fmt.Errorf("epoch %d of %q is newer: %w", cur, curHolder, ErrFenced)
		}
		_, err = tx.ExecContext(ctx,
			"UPDATE jetmon_coordinator_lease SET epoch = ?, holder = ? WHERE name = ?", epoch, holder, leaseName)
		if err != nil {
			return fmt.Errorf("raise fencing row: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("advance fence to epoch %d: %w", epoch, err)
	}
	return nil
}

// CurrentEpoch returns the fencing row's epoch and holder, or 0 and "" when
// no leader has advanced it yet. It is a plain read, for status displays:
// correctness decisions take the row locked inside their own transaction.
func (f *Fence) CurrentEpoch(ctx context.Context) (epoch uint64, holder string, err error) {
	err = f.db.QueryRowContext(ctx,
		"SELECT epoch, holder FROM jetmon_coordinator_lease WHERE name = ?", leaseName).Scan(&epoch, &holder)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read fencing row: %w", err)
	}
	return epoch, holder, nil
}

// HoldEpoch locks the fencing row until tx ends and returns an error
// wrapping ErrFenced unless the row holds epoch. Every coordinator
// transaction calls it first, so a deposed leader's transaction either
// commits before the new leader's Advance or fails.
func HoldEpoch(ctx context.Context, tx *sql.Tx, epoch uint64) error {
	var cur uint64
	err := tx.QueryRowContext(ctx,
		"SELECT epoch FROM jetmon_coordinator_lease WHERE name = ? FOR UPDATE", leaseName).Scan(&cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("epoch %d: the fence was never advanced: %w", epoch, ErrFenced)
	case err != nil:
		return fmt.Errorf("lock fencing row: %w", err)
	case cur != epoch:
		return fmt.Errorf("epoch %d: the fence holds epoch %d: %w", epoch, cur, ErrFenced)
	}
	return nil
}
