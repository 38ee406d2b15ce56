package jetmoncmd

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/coordinator"
	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The incident adapters against MariaDB: an applied write's outbox payload
// decodes as the transition message with the write's site and votes, and
// the stores' errors reach the coordinator as its own sentinels.
func TestIncidentAdapter(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := t.Context()
	if err := sqlstore.NewFence(db).Advance(ctx, 5, "c1"); err != nil {
		t.Fatal(err)
	}
	w := eventWriter{db: db, projection: true, logger: slog.New(slog.DiscardHandler)}
	store, outbox := incidentAdapter{w}, outboxAdapter{w}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	site := uptime.Site{BlogID: 3, Bucket: 2, Spec: uptime.CheckSpec{BlogID: 3, URL: "https://three"}}
	vote := uptime.Vote{Region: "b", NodeID: "vb", HTTPCode: 503, CheckedAt: at}
	open := uptime.Change{Op: uptime.OpOpen,
		Event: uptime.Event{BlogID: 3, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeveritySeemsDown,
			State: uptime.StateSeemsDown, StartedAt: at},
		Transition: uptime.Transition{Reason: uptime.ReasonOpened, StateAfter: uptime.StateSeemsDown,
			SeverityAfter: new(uptime.SeveritySeemsDown), ChangedAt: at}}
	write := coordinator.IncidentWrite{Changes: []uptime.Change{open},
		Sites: map[int64]uptime.Site{3: site}, Votes: map[int64][]uptime.Vote{3: {vote}}}

	if err := store.Apply(ctx, 5, write); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	rows, err := outbox.Pending(ctx, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Pending = %d rows (%v), want 1", len(rows), err)
	}
	m, err := bus.DecodeTransitionMessage(rows[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.Transition.ID != rows[0].TransitionID || m.Site.Spec.URL != site.Spec.URL || len(m.Votes) != 1 ||
		m.Event.State != uptime.StateSeemsDown {
		t.Errorf("payload %+v, want transition %d with the site and the vote", m, rows[0].TransitionID)
	}
	if err := outbox.Delete(ctx, []int64{rows[0].ID}); err != nil {
		t.Fatal(err)
	}
	events, err := store.OpenEvents(ctx)
	if err != nil || len(events) != 1 {
		t.Fatalf("OpenEvents = %v (%v), want the open event", events, err)
	}

	tests := map[string]struct {
		epoch uint64
		w     coordinator.IncidentWrite
		want  error
	}{
		"a deposed epoch":     {epoch: 4, w: write, want: coordinator.ErrFenced},
		"an open that exists": {epoch: 5, w: write, want: coordinator.ErrIncidentConflict},
		"an update of none open": {epoch: 5, w: coordinator.IncidentWrite{Changes: []uptime.Change{{Op: uptime.OpUpdate,
			Event: uptime.Event{BlogID: 4, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown,
				State: uptime.StateDown, StartedAt: at},
			Transition: uptime.Transition{Reason: uptime.ReasonVerifierConfirmed, ChangedAt: at}}}},
			want: coordinator.ErrIncidentConflict},
	}
	for name, tt := range tests {
		if err := store.Apply(ctx, tt.epoch, tt.w); !errors.Is(err, tt.want) {
			t.Errorf("%s: Apply = %v, want %v", name, err, tt.want)
		}
	}
}
