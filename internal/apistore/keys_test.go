package apistore_test

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		tok, err := apistore.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		body, ok := strings.CutPrefix(tok, "jm_")
		if !ok || len(tok) != 55 {
			t.Fatalf("token %q: want jm_ and 52 characters", tok)
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(body)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: not unpadded base32 of 32 bytes (%d, %v)", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q twice", tok)
		}
		seen[tok] = true
		sum := sha256.Sum256([]byte(tok))
		if got := uptime.HashAPIToken(tok); got != hex.EncodeToString(sum[:]) {
			t.Fatalf("HashAPIToken(%q) = %s", tok, got)
		}
	}
}

// keysWorld is a store on the `jetmon keys` account and one on the API's.
type keysWorld struct {
	*world
	admin *apistore.Store
}

func newKeysWorld(t *testing.T) *keysWorld {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	clk := &clock{now: t0}
	admin, err := apistore.New(restrictedDB(t, db, dsn, apistore.KeysGrants), apistore.Opts{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	store, err := apistore.New(restrictedDB(t, db, dsn, apistore.APIGrants), apistore.Opts{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &keysWorld{world: &world{db: db, clk: clk, store: store}, admin: admin}
}

func TestCreateKey(t *testing.T) {
	t.Parallel()
	w := newKeysWorld(t)
	tests := []struct {
		name     string
		nk       apistore.NewKey
		wantErr  string
		wantRate int
		wantExp  time.Time
		wantBy   string
	}{
		{name: "read key with defaults", nk: apistore.NewKey{Consumer: "gateway", Scope: uptime.ScopeRead},
			wantRate: 60, wantBy: "cli"},
		{name: "write key default rate", nk: apistore.NewKey{Consumer: "ops", Scope: uptime.ScopeWrite, CreatedBy: "alice"},
			wantRate: 30, wantBy: "alice"},
		{name: "admin key with rate and ttl", nk: apistore.NewKey{Consumer: "ci", Scope: uptime.ScopeAdmin,
			RateLimitPerMinute: 600, TTL: 90 * 24 * time.Hour}, wantRate: 600, wantExp: t0.Add(90 * 24 * time.Hour), wantBy: "cli"},
		{name: "unknown scope", nk: apistore.NewKey{Consumer: "x", Scope: "root"}, wantErr: `scope "root"`},
		{name: "no consumer", nk: apistore.NewKey{Consumer: "  ", Scope: uptime.ScopeRead}, wantErr: "consumer is required"},
		{name: "terminal escape in consumer", nk: apistore.NewKey{Consumer: "evil\x1b[2J", Scope: uptime.ScopeRead},
			wantErr: "must be printable"},
		{name: "long consumer", nk: apistore.NewKey{Consumer: strings.Repeat("c", 129), Scope: uptime.ScopeRead},
			wantErr: "at most 128"},
		{name: "negative rate", nk: apistore.NewKey{Consumer: "x", Scope: uptime.ScopeRead, RateLimitPerMinute: -1},
			wantErr: "rate limit -1"},
		{name: "negative ttl", nk: apistore.NewKey{Consumer: "x", Scope: uptime.ScopeRead, TTL: -time.Hour},
			wantErr: "ttl -1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, token, err := w.admin.CreateKey(t.Context(), tt.nk)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key.Hash != uptime.HashAPIToken(token) || key.Consumer != tt.nk.Consumer || key.Scope != tt.nk.Scope ||
				key.RateLimitPerMinute != tt.wantRate || !key.ExpiresAt.Equal(tt.wantExp) || key.CreatedBy != tt.wantBy ||
				!key.RevokedAt.IsZero() || !key.LastUsedAt.IsZero() {
				t.Fatalf("key = %+v", key)
			}
			got, err := w.store.KeyByHash(t.Context(), uptime.HashAPIToken(token))
			if err != nil || got.ID != key.ID || got.ValidAt(t0) != uptime.KeyValid {
				t.Fatalf("KeyByHash = %+v, %v", got, err)
			}
		})
	}
}

func TestKeyByHashAndTouch(t *testing.T) {
	t.Parallel()
	w := newKeysWorld(t)
	ctx := t.Context()
	if _, err := w.store.KeyByHash(ctx, uptime.HashAPIToken("jm_nope")); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	key, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "c", Scope: uptime.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"first use", t0.Add(time.Minute), t0.Add(time.Minute)},
		{"later use", t0.Add(2 * time.Minute), t0.Add(2 * time.Minute)},
		{"an older touch never moves it back", t0.Add(90 * time.Second), t0.Add(2 * time.Minute)},
	}
	for _, st := range steps {
		if err := w.store.TouchKey(ctx, key.ID, st.at); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := w.store.KeyByHash(ctx, key.Hash)
		if err != nil || !got.LastUsedAt.Equal(st.want) {
			t.Fatalf("%s: last used %v, %v; want %v", st.name, got.LastUsedAt, err, st.want)
		}
	}
}

func TestRevokeKey(t *testing.T) {
	t.Parallel()
	w := newKeysWorld(t)
	ctx := t.Context()
	create := func() uptime.APIKey {
		k, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "c", Scope: uptime.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	active, scheduled, revoked := create(), create(), create()
	w.exec(t, `UPDATE jetmon_api_keys SET revoked_at = ? WHERE id = ?`, t0.Add(time.Hour), scheduled.ID)
	w.exec(t, `UPDATE jetmon_api_keys SET revoked_at = ? WHERE id = ?`, t0.Add(-time.Hour), revoked.ID)
	tests := []struct {
		name         string
		id           int64
		wantChanged  bool
		wantRevoked  time.Time
		wantPrevious time.Time
		wantErr      error
	}{
		{"active key is revoked now", active.ID, true, t0, time.Time{}, nil},
		{"scheduled revocation is brought forward", scheduled.ID, true, t0, t0.Add(time.Hour), nil},
		{"revoked key is left alone", revoked.ID, false, t0.Add(-time.Hour), t0.Add(-time.Hour), nil},
		{"unknown id", 9999, false, time.Time{}, time.Time{}, api.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rev, err := w.admin.RevokeKey(ctx, tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if rev.Changed != tt.wantChanged || !rev.Key.RevokedAt.Equal(tt.wantRevoked) ||
				!rev.Previous.Equal(tt.wantPrevious) || rev.Key.ValidAt(t0) != uptime.KeyRevoked {
				t.Fatalf("revocation %+v; want revoked at %v (before %v) changed %v", rev, tt.wantRevoked,
					tt.wantPrevious, tt.wantChanged)
			}
		})
	}
}

func TestListKeys(t *testing.T) {
	t.Parallel()
	w := newKeysWorld(t)
	ctx := t.Context()
	var ids []int64
	for _, c := range []string{"active", "grace", "revoked", "expired"} {
		k, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: c, Scope: uptime.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	w.exec(t, `UPDATE jetmon_api_keys SET revoked_at = ? WHERE id = ?`, t0.Add(time.Minute), ids[1])
	w.exec(t, `UPDATE jetmon_api_keys SET revoked_at = ? WHERE id = ?`, t0, ids[2]) // at the cutoff: revoked
	w.exec(t, `UPDATE jetmon_api_keys SET expires_at = ? WHERE id = ?`, t0, ids[3])
	for _, tt := range []struct {
		name           string
		includeRevoked bool
		want           []string
	}{
		{"revoked keys hidden", false, []string{"active", "grace", "expired"}},
		{"include revoked", true, []string{"active", "grace", "revoked", "expired"}},
	} {
		keys, err := w.admin.ListKeys(ctx, tt.includeRevoked)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.Consumer)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRotateKey(t *testing.T) {
	t.Parallel()
	w := newKeysWorld(t)
	ctx := t.Context()
	base, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "gw", Scope: uptime.ScopeWrite,
		RateLimitPerMinute: 99, TTL: 48 * time.Hour, CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	rot, err := w.admin.RotateKey(ctx, base.ID, 5*time.Minute, "bob")
	if err != nil {
		t.Fatal(err)
	}
	n := rot.New
	if n.ID == base.ID || n.Consumer != "gw" || n.Scope != uptime.ScopeWrite || n.RateLimitPerMinute != 99 ||
		!n.ExpiresAt.Equal(base.ExpiresAt) || n.CreatedBy != "bob" || n.Hash != uptime.HashAPIToken(rot.Token) {
		t.Fatalf("new key %+v, old %+v", n, base)
	}
	if !rot.Old.RevokedAt.Equal(t0.Add(5*time.Minute)) || rot.Old.ValidAt(t0) != uptime.KeyValid ||
		rot.Old.ValidAt(t0.Add(5*time.Minute)) != uptime.KeyRevoked {
		t.Fatalf("old key %+v: want a 5 min grace window", rot.Old)
	}

	immediate, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "now", Scope: uptime.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "old", Scope: uptime.ScopeRead, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	w.exec(t, `UPDATE jetmon_api_keys SET expires_at = ? WHERE id = ?`, t0, expired.ID) // expired at the boundary
	revoked, _, err := w.admin.CreateKey(ctx, apistore.NewKey{Consumer: "gone", Scope: uptime.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.admin.RevokeKey(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      int64
		grace   time.Duration
		wantErr error
		wantMsg string
	}{
		{"rotating again during the grace window", base.ID, time.Minute, apistore.ErrKeyRevoked, "already scheduled for revocation"},
		{"expired key", expired.ID, 0, apistore.ErrKeyExpired, "api key expired at 2026-03-14T12:00:00Z"},
		{"revoked key", revoked.ID, 0, apistore.ErrKeyRevoked, "api key revoked at"},
		{"unknown key", 4242, 0, api.ErrNotFound, "api key 4242"},
		{"negative grace", immediate.ID, -time.Second, nil, "grace -1s must be >= 0"},
		{"grace 0 revokes at once", immediate.ID, 0, nil, ""},
	}
	for _, tt := range tests {
		_, err := w.admin.RotateKey(ctx, tt.id, tt.grace, "")
		if tt.wantMsg == "" {
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Fatalf("%s: err = %v, want %v %q", tt.name, err, tt.wantErr, tt.wantMsg)
		}
	}
	got, err := w.store.KeyByHash(ctx, immediate.Hash)
	if err != nil || !got.RevokedAt.Equal(t0) {
		t.Fatalf("grace 0: old key %+v, %v; want revoked at %v", got, err, t0)
	}
	keys, err := w.admin.ListKeys(ctx, true)
	if err != nil || len(keys) != 6 {
		t.Fatalf("%d keys, %v: the refused rotations must create none", len(keys), err)
	}
}
