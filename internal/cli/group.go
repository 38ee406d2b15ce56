package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Runner is a long-lived part of a process.
type Runner interface {
	Run(ctx context.Context) error
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context) error

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context) error { return f(ctx) }

// RunGroup runs parts in one errgroup until all have returned: the first
// failure cancels the others. It has no deadline of its own: use it for a
// group nested inside RunParts, which bounds the drain.
func RunGroup(ctx context.Context, parts map[string]Runner) error {
	g, gctx := errgroup.WithContext(ctx)
	for name, part := range parts {
		g.Go(func() error {
			if err := part.Run(gctx); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait() //nolint:wrapcheck // each part's error is already wrapped with its name
}

// drainGrace is added to the parts' own shutdown timeout before the process
// gives up waiting: every part must be gone within 10 s of a signal.
const drainGrace = time.Second

// ErrDrainTimeout means a part did not stop within its shutdown budget.
var ErrDrainTimeout = errors.New("parts did not stop in time")

// RunParts runs every part in one errgroup: the first failure cancels the
// others, and cancellation of ctx (a signal) drains them all. It returns nil
// after a clean drain, and ErrDrainTimeout if the parts are not all gone
// within shutdownTimeout plus a second of grace.
func RunParts(ctx context.Context, logger *slog.Logger, shutdownTimeout time.Duration, parts map[string]Runner) error {
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A failing part starts the drain clock too, not only a signal.
	watched := make(map[string]Runner, len(parts))
	for name, part := range parts {
		watched[name] = RunnerFunc(func(ctx context.Context) error {
			err := part.Run(ctx)
			if err != nil {
				cancel()
			}
			return err
		})
	}
	done := make(chan error, 1)
	go func() { done <- RunGroup(gctx, watched) }()
	select {
	case err := <-done:
		return err
	case <-gctx.Done():
	}
	logger.Info("draining", "timeout", shutdownTimeout)
	select {
	case err := <-done:
		if err == nil {
			logger.Info("stopped cleanly")
		}
		return err
	case <-time.After(shutdownTimeout + drainGrace):
		logger.Error("drain timed out; exiting anyway", "timeout", shutdownTimeout+drainGrace)
		return ErrDrainTimeout
	}
}
