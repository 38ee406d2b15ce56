package meshstatus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/meshstatus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestCollect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	js, err := jetstream.New(testenv.StartNATS(t).Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureAssets(ctx, js, bus.AssetOpts{}); err != nil {
		t.Fatal(err)
	}
	empty := meshstatus.Collect(ctx, js, meshstatus.Opts{Rollout: uptime.BucketRange{Min: 0, Max: 9}})
	if empty.Leader != nil || !slices.Equal(empty.Unassigned, []meshstatus.Range{{Min: 0, Max: 9}}) || len(empty.Errors) != 0 {
		t.Fatalf("empty mesh: %+v", empty)
	}

	presenceCtx, stop := context.WithCancel(ctx)
	defer stop()
	presence, err := bus.NewPresence(js, bus.PresenceOpts{Role: uptime.RoleProber, NodeID: "p1", Region: "eu", Version: "v1", Capacity: 2, TTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- presence.Run(presenceCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("presence: %v", err)
		}
	}()
	store, err := bus.NewAssignments(js, bus.AssignmentsOpts{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []uptime.Assignment{
		{NodeID: "p1", Region: "eu", Epoch: 7, Ranges: []uptime.BucketRange{{Min: 0, Max: 4}}},
		{NodeID: "gone", Region: "us", Epoch: 7, Ranges: []uptime.BucketRange{{Min: 5, Max: 7}}},
	} {
		if err := store.Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var s meshstatus.Status
	deadline := time.Now().Add(10 * time.Second)
	for s = meshstatus.Collect(ctx, js, meshstatus.Opts{Rollout: uptime.BucketRange{Min: 0, Max: 9}}); s.Counts[uptime.RoleProber] == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the prober's presence never showed")
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		s = meshstatus.Collect(ctx, js, meshstatus.Opts{Rollout: uptime.BucketRange{Min: 0, Max: 9}})
	}
	// Buckets of a prober that is not alive count as unassigned.
	if want := []meshstatus.Range{{Min: 5, Max: 9}}; !slices.Equal(s.Unassigned, want) {
		t.Errorf("unassigned = %v, want %v", s.Unassigned, want)
	}
	if len(s.Assignments) != 2 || !s.Assignments[0].Alive || s.Assignments[1].Alive || s.Assignments[0].Buckets != 5 {
		t.Errorf("assignments = %+v", s.Assignments)
	}
	if s.Backlog == nil || s.Backlog.Pending != 0 {
		t.Errorf("backlog = %+v", s.Backlog)
	}

	var text, js2 bytes.Buffer
	if err := meshstatus.WriteText(&text, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"leader              NONE", "unassigned buckets  5-9", "prober=1", "p1      eu      7      5        0-4     true"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if err := meshstatus.WriteJSON(&js2, s); err != nil {
		t.Fatal(err)
	}
	var round meshstatus.Status
	if err := json.Unmarshal(js2.Bytes(), &round); err != nil || len(round.Assignments) != 2 {
		t.Errorf("json round trip: %v %+v", err, round)
	}
}
