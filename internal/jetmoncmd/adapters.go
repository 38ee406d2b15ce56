package jetmoncmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jetmon-mesh/jetmon/coordinator"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The coordinator declares its own ports; these adapters translate the
// NATS and MySQL implementations' types and sentinel errors into them.

type electorAdapter struct{ e *bus.Elector }

func (a electorAdapter) Campaign(ctx context.Context) (coordinator.Term, error) {
	t, err := a.e.Campaign(ctx)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// fenced maps sqlstore's fencing error onto the coordinator's.
func fenced(err error) error {
	if errors.Is(err, sqlstore.ErrFenced) {
		return fmt.Errorf("%w: %w", coordinator.ErrFenced, err)
	}
	return err
}

type fenceAdapter struct{ f *sqlstore.Fence }

func (a fenceAdapter) Advance(ctx context.Context, epoch uint64, holder string) error {
	return fenced(a.f.Advance(ctx, epoch, holder))
}

type mirrorAdapter struct{ m *bus.SiteMirror }

func (a mirrorAdapter) Keys(ctx context.Context) ([]coordinator.SiteKey, error) {
	refs, err := a.m.Keys(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]coordinator.SiteKey, len(refs))
	for i, r := range refs {
		keys[i] = coordinator.SiteKey(r)
	}
	return keys, nil
}

func (a mirrorAdapter) Put(ctx context.Context, s uptime.Site) error { return a.m.Put(ctx, s) }

func (a mirrorAdapter) Delete(ctx context.Context, k coordinator.SiteKey) error {
	return a.m.Delete(ctx, bus.SiteRef(k))
}

type sourceAdapter struct{ s *sqlstore.Sites }

func (a sourceAdapter) ActiveSites(ctx context.Context, r uptime.BucketRange) ([]uptime.Site, error) {
	return a.s.ActiveSites(ctx, r)
}

func (a sourceAdapter) Sites(ctx context.Context, blogIDs []int64) ([]coordinator.SiteRecord, error) {
	recs, err := a.s.Lookup(ctx, blogIDs)
	if err != nil {
		return nil, err
	}
	out := make([]coordinator.SiteRecord, len(recs))
	for i, r := range recs {
		out[i] = coordinator.SiteRecord(r)
	}
	return out, nil
}

func (a sourceAdapter) ChangedSince(ctx context.Context, since time.Time) ([]coordinator.SiteChange, error) {
	rows, err := a.s.ChangedSince(ctx, since)
	if err != nil {
		return nil, err
	}
	changes := make([]coordinator.SiteChange, len(rows))
	for i, r := range rows {
		changes[i] = coordinator.SiteChange{Site: r.Site, Active: r.Active}
	}
	return changes, nil
}

type resultsAdapter struct{ c *bus.ResultConsumer }

func (a resultsAdapter) Fetch(ctx context.Context, max int, wait time.Duration) (coordinator.Batch, error) {
	b, err := a.c.Fetch(ctx, max, wait)
	if err != nil {
		return coordinator.Batch{}, err
	}
	deliveries := make([]coordinator.Delivery, len(b.Deliveries))
	for i, d := range b.Deliveries {
		deliveries[i] = coordinator.Delivery(d)
	}
	return coordinator.Batch{Deliveries: deliveries, Ack: b.Ack, Extend: b.InProgress}, nil
}

func (a resultsAdapter) Rewind(ctx context.Context) error { return a.c.Rewind(ctx) }

// ingestAdapter commits a batch and its incident write in one transaction.
type ingestAdapter struct {
	in     *sqlstore.Ingest
	events eventWriter
}

func (a ingestAdapter) Watermark(ctx context.Context, consumer string) (uint64, error) {
	return a.in.Watermark(ctx, consumer)
}

func (a ingestAdapter) Commit(ctx context.Context, epoch uint64, b coordinator.IngestBatch) error {
	rollups := make([]sqlstore.Rollup, len(b.Rollups))
	for i, r := range b.Rollups {
		rollups[i] = sqlstore.Rollup(r)
	}
	inTx, err := a.events.applyInTx(b.Incidents)
	if err != nil {
		return err
	}
	return storeErr(a.in.CommitWith(ctx, epoch, sqlstore.IngestBatch{
		Consumer: b.Consumer, FromSeq: b.FromSeq, ToSeq: b.ToSeq, History: b.History,
		Rollups: rollups, LastChecked: b.LastChecked, SSLExpiry: b.SSLExpiry,
	}, inTx))
}

type commandsAdapter struct{ s *bus.CommandServer }

func (a commandsAdapter) ServeCommands(ctx context.Context, handlers map[string]coordinator.CommandHandler) error {
	converted := make(map[string]bus.CommandHandler, len(handlers))
	for verb, h := range handlers {
		converted[verb] = bus.CommandHandler(h)
	}
	return a.s.ServeCommands(ctx, converted)
}
