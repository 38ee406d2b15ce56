package apistore_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func eventIDs(events []uptime.Event) []int64 {
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	h := time.Hour
	// Blog 1: a closed Down, an open Seems Down (http) and an open TLS
	// warning; blog 2: one open Down; blog 3: only closed events.
	closed := w.addEvent(t, 1, uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown, t0.Add(-10*h), t0.Add(-9*h))
	seems := w.addEvent(t, 1, uptime.CheckTypeHTTP, uptime.SeveritySeemsDown, uptime.StateSeemsDown, t0.Add(-2*h), time.Time{})
	tls := w.addEvent(t, 1, uptime.CheckTypeTLSExpiry, uptime.SeverityWarning, uptime.StateWarning, t0.Add(-5*h), time.Time{})
	down := w.addEvent(t, 2, uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown, t0.Add(-h), time.Time{})
	old := w.addEvent(t, 3, uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown, t0.Add(-3*h), t0.Add(-2*h))
	w.exec(t, `UPDATE jetmon_events SET resolution_reason = 'verifier_cleared' WHERE id IN (?, ?)`, closed, old)

	open, err := w.store.OpenEvents(ctx, []int64{1, 2, 3, 1, 404})
	if err != nil || !reflect.DeepEqual(eventIDs(open), []int64{seems, tls, down}) {
		t.Fatalf("open events %v, %v", eventIDs(open), err)
	}
	if none, err := w.store.OpenEvents(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("no blogs: %v, %v", none, err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		q    api.EventQuery
		want []int64
	}{
		{"newest first", api.EventQuery{BlogID: 1, Limit: 10}, []int64{tls, seems, closed}},
		{"cursor", api.EventQuery{BlogID: 1, BeforeID: tls, Limit: 1}, []int64{seems}},
		{"states", api.EventQuery{BlogID: 1, States: []uptime.State{uptime.StateDown, uptime.StateWarning}, Limit: 10}, []int64{tls, closed}},
		{"check types", api.EventQuery{BlogID: 1, CheckTypes: []string{uptime.CheckTypeHTTP}, Limit: 10}, []int64{seems, closed}},
		{"started window is half-open", api.EventQuery{BlogID: 1, StartedAtGTE: t0.Add(-5 * h), StartedAtLT: t0.Add(-2 * h), Limit: 10}, []int64{tls}},
		{"active", api.EventQuery{BlogID: 1, Active: &yes, Limit: 10}, []int64{tls, seems}},
		{"closed", api.EventQuery{BlogID: 1, Active: &no, Limit: 10}, []int64{closed}},
		{"another site", api.EventQuery{BlogID: 404, Limit: 10}, nil},
	}
	for _, tt := range tests {
		got, err := w.store.ListEvents(ctx, tt.q)
		if err != nil || !reflect.DeepEqual(eventIDs(got), tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, eventIDs(got), err, tt.want)
		}
	}

	e, err := w.store.GetEvent(ctx, closed)
	want := uptime.Event{ID: closed, BlogID: 1, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown,
		State: uptime.StateDown, StartedAt: t0.Add(-10 * h), EndedAt: t0.Add(-9 * h),
		ResolutionReason: uptime.ReasonVerifierCleared, Metadata: map[string]any{"k": "v"}}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("event %+v, %v; want %+v", e, err, want)
	}
	if _, err := w.store.GetEvent(ctx, 9999); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing event: %v", err)
	}

	overlap := []struct {
		name     string
		blog     int64
		from, to time.Time
		want     []int64
	}{
		{"everything of blog 1", 1, t0.Add(-24 * h), t0, []int64{closed, tls, seems}},
		{"an event that ended at from is out", 1, t0.Add(-9 * h), t0.Add(-8 * h), nil},
		{"an event that starts at to is out", 3, t0.Add(-4 * h), t0.Add(-3 * h), nil},
		{"open events overlap any later window", 2, t0.Add(h), t0.Add(2 * h), []int64{down}},
	}
	for _, tt := range overlap {
		got, err := w.store.EventsOverlapping(ctx, tt.blog, tt.from, tt.to)
		if err != nil || !reflect.DeepEqual(eventIDs(got), tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, eventIDs(got), err, tt.want)
		}
	}
}

func TestTransitions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	ev := w.addEvent(t, 1, uptime.CheckTypeHTTP, uptime.SeverityDown, uptime.StateDown, t0, time.Time{})
	other := w.addEvent(t, 2, uptime.CheckTypeTLSExpiry, uptime.SeverityWarning, uptime.StateWarning, t0, time.Time{})
	votes := map[string]any{"votes": []any{map[string]any{"region": "b", "up": false}}}
	tr1 := w.addTransition(t, ev, 1, nil, ptr(uptime.SeveritySeemsDown), uptime.ReasonOpened, nil, t0)
	tr2 := w.addTransition(t, ev, 1, ptr(uptime.SeveritySeemsDown), ptr(uptime.SeverityDown), uptime.ReasonVerifierConfirmed,
		votes, t0.Add(time.Minute))
	tr3 := w.addTransition(t, ev, 1, ptr(uptime.SeverityDown), nil, uptime.ReasonManualOverride, nil, t0.Add(2*time.Minute))
	w.addTransition(t, other, 2, nil, ptr(uptime.SeverityWarning), uptime.ReasonOpened, nil, t0)

	counts, err := w.store.TransitionCounts(ctx, []int64{ev, other, 9999})
	if err != nil || !reflect.DeepEqual(counts, map[int64]int{ev: 3, other: 1}) {
		t.Fatalf("counts %v, %v", counts, err)
	}
	all, err := w.store.ListTransitions(ctx, ev, 0, 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("transitions %+v, %v", all, err)
	}
	want := uptime.Transition{ID: tr2, EventID: ev, BlogID: 1, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: ptr(uptime.SeveritySeemsDown), SeverityAfter: ptr(uptime.SeverityDown),
		StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown, Reason: uptime.ReasonVerifierConfirmed,
		Source: "local", Metadata: votes, ChangedAt: t0.Add(time.Minute)}
	if !reflect.DeepEqual(all[1], want) {
		t.Fatalf("transition\n got %+v\nwant %+v", all[1], want)
	}
	if all[0].SeverityBefore != nil || all[2].SeverityAfter != nil {
		t.Fatalf("NULL severities read as %v, %v", all[0].SeverityBefore, all[2].SeverityAfter)
	}
	page, err := w.store.ListTransitions(ctx, ev, tr1, 1)
	if err != nil || len(page) != 1 || page[0].ID != tr2 {
		t.Fatalf("page after %d: %+v, %v", tr1, page, err)
	}
	if page, err := w.store.ListTransitions(ctx, ev, tr3, 10); err != nil || len(page) != 0 {
		t.Fatalf("past the end: %+v, %v", page, err)
	}
}

func TestRollups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := range 3 {
		w.exec(t, `INSERT INTO jetmon_check_rollups_hourly (blog_id, hour, checks, failures, rtt_samples, sum_rtt_ms,
			min_rtt_ms, max_rtt_ms, sum_dns_ms, sum_tcp_ms, sum_tls_ms, sum_ttfb_ms) VALUES (1, ?, 60, ?, 59, 5900, 50, 300, 59, 118, 177, 236)`,
			t0.Add(time.Duration(i)*time.Hour), i)
	}
	w.exec(t, `INSERT INTO jetmon_check_rollups_hourly (blog_id, hour, checks, failures) VALUES (1, ?, 5, 5), (2, ?, 1, 0)`,
		t0.Add(3*time.Hour), t0)
	got, err := w.store.Rollups(t.Context(), 1, t0.Add(time.Hour), t0.Add(4*time.Hour))
	if err != nil || len(got) != 3 {
		t.Fatalf("roll-ups %+v, %v", got, err)
	}
	want := uptime.HourlyRollup{BlogID: 1, Hour: t0.Add(time.Hour), Checks: 60, Failures: 1, RTTSamples: 59, SumRTTMs: 5900,
		MinRTTMs: ptr(int64(50)), MaxRTTMs: ptr(int64(300)), SumDNSMs: 59, SumTCPMs: 118, SumTLSMs: 177, SumTTFBMs: 236}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("roll-up\n got %+v\nwant %+v", got[0], want)
	}
	if got[2].MinRTTMs != nil || got[2].Failures != 5 {
		t.Fatalf("hour without samples: %+v", got[2])
	}
}
