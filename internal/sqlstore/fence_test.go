package sqlstore_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestFenceAdvance(t *testing.T) {
	t.Parallel()
	type advance struct {
		epoch      uint64
		holder     string
		wantFenced bool
	}
	tests := []struct {
		name       string
		advances   []advance
		wantEpoch  uint64
		wantHolder string
	}{
		{name: "first advance creates the row",
			advances: []advance{{epoch: 5, holder: "a"}}, wantEpoch: 5, wantHolder: "a"},
		{name: "a higher epoch takes over",
			advances: []advance{{epoch: 5, holder: "a"}, {epoch: 9, holder: "b"}}, wantEpoch: 9, wantHolder: "b"},
		{name: "a lower epoch is fenced and changes nothing",
			advances:  []advance{{epoch: 9, holder: "b"}, {epoch: 5, holder: "a", wantFenced: true}},
			wantEpoch: 9, wantHolder: "b"},
		{name: "the same epoch again is a retry and rewrites the holder",
			advances: []advance{{epoch: 5, holder: "a"}, {epoch: 5, holder: "a2"}}, wantEpoch: 5, wantHolder: "a2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fence := sqlstore.NewFence(testenv.NewDB(t))
			for _, a := range tt.advances {
				err := fence.Advance(t.Context(), a.epoch, a.holder)
				if errors.Is(err, sqlstore.ErrFenced) != a.wantFenced || (err != nil && !a.wantFenced) {
					t.Fatalf("Advance(%d, %q) = %v, want fenced %v", a.epoch, a.holder, err, a.wantFenced)
				}
			}
			epoch, holder, err := fence.CurrentEpoch(t.Context())
			if err != nil {
				t.Fatalf("CurrentEpoch: %v", err)
			}
			if epoch != tt.wantEpoch || holder != tt.wantHolder {
				t.Errorf("CurrentEpoch = %d, %q, want %d, %q", epoch, holder, tt.wantEpoch, tt.wantHolder)
			}
		})
	}
}

func TestFenceEmptyAndInvalid(t *testing.T) {
	t.Parallel()
	fence := sqlstore.NewFence(testenv.NewDB(t))
	epoch, holder, err := fence.CurrentEpoch(t.Context())
	if err != nil || epoch != 0 || holder != "" {
		t.Errorf("CurrentEpoch on a fresh database = %d, %q, %v, want 0, \"\", nil", epoch, holder, err)
	}
	if err := fence.Advance(t.Context(), 0, "a"); err == nil || errors.Is(err, sqlstore.ErrFenced) {
		t.Errorf("Advance(0) = %v, want a validation error", err)
	}
}

func TestFenceConcurrentAdvances(t *testing.T) {
	t.Parallel()
	fence := sqlstore.NewFence(testenv.NewDB(t))
	const leaders = 8
	errs := make([]error, leaders)
	var wg sync.WaitGroup
	for i := range leaders {
		wg.Go(func() { errs[i] = fence.Advance(t.Context(), uint64(i+1), "node") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, sqlstore.ErrFenced) {
			t.Errorf("Advance(%d) = %v, want nil or fenced", i+1, err)
		}
	}
	if errs[leaders-1] != nil {
		t.Errorf("the highest epoch was refused: %v", errs[leaders-1])
	}
	epoch, _, err := fence.CurrentEpoch(t.Context())
	if err != nil || epoch != leaders {
		t.Errorf("CurrentEpoch = %d, %v, want %d", epoch, err, leaders)
	}
}
