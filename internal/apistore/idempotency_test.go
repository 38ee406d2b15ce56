package apistore_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
)

func idemRec(key, hash string) api.IdempotencyRecord {
	return api.IdempotencyRecord{KeyID: 7, Method: "POST", Path: "/api/v1/sites/1/pause", Key: key, RequestHash: hash,
		ExpiresAt: t0.Add(24 * time.Hour)}
}

func TestIdempotencyLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	rec := idemRec("k1", "h1")
	if _, claimed, err := w.store.Claim(ctx, rec); err != nil || !claimed {
		t.Fatalf("first claim: claimed %v, %v", claimed, err)
	}
	existing, claimed, err := w.store.Claim(ctx, rec)
	if err != nil || claimed || existing.Status != 0 || existing.RequestHash != "h1" {
		t.Fatalf("claim while in flight: %+v claimed %v, %v; want the in-flight record", existing, claimed, err)
	}
	other := rec
	other.Path = "/api/v1/sites/2/pause" // same key and body on another route: its own scope
	if _, claimed, err := w.store.Claim(ctx, other); err != nil || !claimed {
		t.Fatalf("claim on another path: claimed %v, %v", claimed, err)
	}
	for _, scope := range []api.IdempotencyRecord{
		{KeyID: 8, Method: rec.Method, Path: rec.Path}, // another API key
		{KeyID: rec.KeyID, Method: "PUT", Path: rec.Path},
	} {
		scope.Key, scope.RequestHash, scope.ExpiresAt = rec.Key, rec.RequestHash, rec.ExpiresAt
		if _, claimed, err := w.store.Claim(ctx, scope); err != nil || !claimed {
			t.Fatalf("claim of key id %d, method %s: claimed %v, %v; want a scope of its own", scope.KeyID, scope.Method, claimed, err)
		}
	}
	wrong := rec
	wrong.RequestHash, wrong.Status = "h2", 200
	if err := w.store.Complete(ctx, wrong); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("complete with another body hash: %v, want ErrNotFound", err)
	}
	done := rec
	done.Status, done.Header, done.Body = 200, map[string][]string{"Content-Type": {"application/json"}}, []byte(`{"ok":true}`)
	if err := w.store.Complete(ctx, done); err != nil {
		t.Fatal(err)
	}
	got, claimed, err := w.store.Claim(ctx, idemRec("k1", "h2"))
	if err != nil || claimed {
		t.Fatalf("claim after complete: claimed %v, %v", claimed, err)
	}
	if got.Status != 200 || got.RequestHash != "h1" || string(got.Body) != `{"ok":true}` ||
		!reflect.DeepEqual(got.Header, done.Header) || !got.ExpiresAt.Equal(rec.ExpiresAt) {
		t.Fatalf("stored record %+v", got)
	}
	if err := w.store.Release(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := w.store.Claim(ctx, other); err != nil || !claimed {
		t.Fatalf("claim after release: claimed %v, %v", claimed, err)
	}
	w.clk.Set(rec.ExpiresAt) // at the expiry: replaced
	if _, claimed, err := w.store.Claim(ctx, idemRec("k1", "h3")); err != nil || !claimed {
		t.Fatalf("claim of an expired record: claimed %v, %v", claimed, err)
	}
}

func TestIdempotencyInFlightExpires(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	rec := idemRec("dead", "h")
	if _, claimed, err := w.store.Claim(ctx, rec); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	w.clk.Set(t0.Add(apistore.DefaultInFlightTTL - time.Millisecond))
	if _, claimed, _ := w.store.Claim(ctx, rec); claimed {
		t.Fatal("in-flight claim taken over before InFlightTTL")
	}
	w.clk.Set(t0.Add(apistore.DefaultInFlightTTL))
	if _, claimed, err := w.store.Claim(ctx, rec); err != nil || !claimed {
		t.Fatalf("claim left by a dead process is not free after InFlightTTL: %v %v", claimed, err)
	}
	w.clk.Set(t0.Add(48 * time.Hour))
	n, err := w.store.DeleteExpiredIdempotency(ctx, 100)
	if err != nil || n != 1 {
		t.Fatalf("delete expired: %d, %v", n, err)
	}
}

func TestIdempotencyConcurrentClaims(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const racers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		claims  int
		errs    []error
		release = make(chan struct{})
	)
	for range racers {
		wg.Go(func() {
			<-release
			_, claimed, err := w.store.Claim(t.Context(), idemRec("race", "h"))
			mu.Lock()
			defer mu.Unlock()
			if claimed {
				claims++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	close(release)
	wg.Wait()
	if claims != 1 || len(errs) != 0 {
		t.Fatalf("%d of %d concurrent first requests claimed (errors %v), want exactly 1", claims, racers, errs)
	}
}
