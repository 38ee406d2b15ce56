package jetmoncmd

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// tokenRE matches a printed token.
var tokenRE = regexp.MustCompile(`jm_[A-Z2-7]{52}`)

// keysEnv is one keys test's database.
type keysEnv struct {
	db  *sql.DB
	dsn string
}

func newKeysEnv(t *testing.T) keysEnv {
	t.Helper()
	db, dsn := testenv.NewDatabase(t)
	return keysEnv{db: db, dsn: dsn}
}

// run runs `jetmon keys args...` against the test database as user tester.
func (k keysEnv) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	env := map[string]string{"DB_DSN": k.dsn, "USER": "tester"}
	var out, errOut bytes.Buffer
	root := Root(cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(name string) string { return env[name] }, Version: "test"})
	root.SetArgs(append([]string{"keys"}, args...))
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// mustRun runs the command and fails the test on an error.
func (k keysEnv) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := k.run(t, args...)
	if err != nil {
		t.Fatalf("keys %v: %v (stderr %q)", args, err, errOut)
	}
	return out
}

// key reads key id through the store.
func (k keysEnv) key(t *testing.T, id int64) uptime.APIKey {
	t.Helper()
	s, err := apistore.New(k.db, apistore.Opts{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListKeys(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if key.ID == id {
			return key
		}
	}
	t.Fatalf("no key %d", id)
	return uptime.APIKey{}
}

// tokenKey resolves a printed token as the API does.
func (k keysEnv) tokenKey(t *testing.T, token string) (uptime.APIKey, error) {
	t.Helper()
	s, err := apistore.New(k.db, apistore.Opts{})
	if err != nil {
		t.Fatal(err)
	}
	return s.KeyByHash(t.Context(), uptime.HashAPIToken(token))
}

func TestKeysCreate(t *testing.T) {
	t.Parallel()
	k := newKeysEnv(t)
	out, errOut, err := k.run(t, "create", "--consumer", "gateway")
	if err != nil {
		t.Fatal(err)
	}
	token := tokenRE.FindString(out)
	const golden = "ID          1\nCONSUMER    gateway\nSCOPE       read\nRATE/MIN    60\nEXPIRES     never\n" +
		"CREATED BY  tester\nTOKEN       jm_<token>\n"
	if got := tokenRE.ReplaceAllString(out, "jm_<token>"); got != golden {
		t.Fatalf("create output:\n%s\nwant:\n%s", got, golden)
	}
	if !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("stderr %q: want the show-once warning", errOut)
	}
	if key, err := k.tokenKey(t, token); err != nil || key.ID != 1 || key.ValidAt(time.Now()) != uptime.KeyValid {
		t.Fatalf("printed token resolves to %+v, %v", key, err)
	}

	before := time.Now()
	out = k.mustRun(t, "create", "--consumer", "ci", "--scope", "write", "--ttl", "90d", "--rate-limit", "5",
		"--created-by", "alice", "-o", "json")
	var created struct {
		ID                 int64      `json:"id"`
		Consumer           string     `json:"consumer"`
		Scope              string     `json:"scope"`
		RateLimitPerMinute int        `json:"rate_limit_per_minute"`
		ExpiresAt          *time.Time `json:"expires_at"`
		CreatedBy          string     `json:"created_by"`
		Status             string     `json:"status"`
		Token              string     `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	if created.ID != 2 || created.Consumer != "ci" || created.Scope != "write" || created.RateLimitPerMinute != 5 || created.CreatedBy != "alice" ||
		created.Status != "active" || !tokenRE.MatchString(created.Token) || created.ExpiresAt == nil ||
		created.ExpiresAt.Before(before.Add(90*24*time.Hour-time.Second)) || created.ExpiresAt.After(time.Now().Add(90*24*time.Hour)) {
		t.Fatalf("json output %s", out)
	}
	if key := k.key(t, 2); key.Scope != uptime.ScopeWrite {
		t.Fatalf("key 2 scope %s", key.Scope)
	}
	if key := k.key(t, 1); key.Scope != uptime.ScopeRead {
		t.Fatalf("key 1 scope %s", key.Scope)
	}
	tests := []struct{ name, wantErr string }{
		{"--consumer", `required flag(s) "consumer" not set`},
		{"--consumer x --scope root", `--scope: scope "root": must be read, write or admin`},
		{"--consumer x --ttl 3w", `--ttl: "3w": want a Go duration (720h) or days (90d)`},
		{"--consumer x --ttl -1h", `--ttl: "-1h": must not be negative`},
		{"--consumer x -o yaml", `--output "yaml": must be table or json`},
		{"--consumer= --scope read", "consumer is required"},
	}
	for _, tt := range tests {
		args := append([]string{"create"}, strings.Fields(tt.name)...)
		if tt.name == "--consumer" {
			args = []string{"create"}
		}
		if _, _, err := k.run(t, args...); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("create %s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestKeysList(t *testing.T) {
	t.Parallel()
	k := newKeysEnv(t)
	for _, c := range []string{"gateway", "ci", "grace", "old", "gone"} {
		k.mustRun(t, "create", "--consumer", c)
	}
	ctx := t.Context()
	fixed := []string{
		`UPDATE jetmon_api_keys SET expires_at = '2100-01-01 00:00:00', last_used_at = '2026-03-14 12:01:00', scope = 'write' WHERE id = 2`,
		`UPDATE jetmon_api_keys SET revoked_at = '2099-06-01 08:00:00' WHERE id = 3`,
		`UPDATE jetmon_api_keys SET expires_at = '2001-01-01 00:00:00' WHERE id = 4`,
		`UPDATE jetmon_api_keys SET revoked_at = '2001-01-01 00:00:00' WHERE id = 5`,
		"UPDATE jetmon_api_keys SET consumer_name = 'evil\x1b[2J' WHERE id = 4",
	}
	for _, q := range fixed {
		if _, err := k.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const golden = "ID  CONSUMER     SCOPE  RATE/MIN  EXPIRES               LAST USED             STATUS\n" +
		"1   gateway      read   60        never                 never                 active\n" +
		"2   ci           write  60        2100-01-01T00:00:00Z  2026-03-14T12:01:00Z  active\n" +
		"3   grace        read   60        never                 never                 revokes-at 2099-06-01T08:00:00Z\n" +
		`4   evil\x1b[2J  read   60        2001-01-01T00:00:00Z  never                 expired` + "\n"
	if got := k.mustRun(t, "list"); got != golden {
		t.Fatalf("list:\n%s\nwant:\n%s", got, golden)
	}
	all := k.mustRun(t, "list", "--include-revoked")
	if !strings.HasSuffix(all, "5   gone         read   60        never                 never                 revoked\n") {
		t.Fatalf("list --include-revoked:\n%s", all)
	}
	var rows []struct {
		ID         int64   `json:"id"`
		Status     string  `json:"status"`
		RevokedAt  *string `json:"revoked_at"`
		LastUsedAt *string `json:"last_used_at"`
	}
	if err := json.Unmarshal([]byte(k.mustRun(t, "list", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[2].Status != "revokes-at 2099-06-01T08:00:00Z" || rows[2].RevokedAt == nil ||
		*rows[2].RevokedAt != "2099-06-01T08:00:00Z" || rows[1].LastUsedAt == nil || rows[0].RevokedAt != nil {
		t.Fatalf("json rows %+v", rows)
	}
}

func TestKeysRevoke(t *testing.T) {
	t.Parallel()
	k := newKeysEnv(t)
	for _, c := range []string{"a", "b"} {
		k.mustRun(t, "create", "--consumer", c)
	}
	if _, err := k.db.ExecContext(t.Context(), `UPDATE jetmon_api_keys SET revoked_at = '2099-01-01 00:00:00' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	stamp := `[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z`
	tests := []struct {
		name    string
		args    []string
		want    string // a regexp of the whole output
		wantErr string
	}{
		{"active key", []string{"revoke", "1"}, `^key 1 \(a\) revoked at ` + stamp + "\n$", ""},
		{"twice is a no-op", []string{"revoke", "1"}, `^key 1 \(a\) was already revoked at ` + stamp + "; nothing changed\n$", ""},
		{"scheduled revocation brought forward", []string{"revoke", "2"},
			`^key 2 \(b\) revoked at ` + stamp + ` \(its scheduled revocation at 2099-01-01T00:00:00Z was brought forward\)` + "\n$", ""},
		{"unknown id", []string{"revoke", "99"}, "", "api key 99: not found"},
		{"bad id", []string{"revoke", "x"}, "", `key id "x": must be a positive integer`},
		{"no id", []string{"revoke"}, "", "accepts 1 arg(s), received 0"},
	}
	for _, tt := range tests {
		out, _, err := k.run(t, tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !regexp.MustCompile(tt.want).MatchString(out) {
			t.Fatalf("%s: %q, %v; want /%s/", tt.name, out, err, tt.want)
		}
	}
	for id := int64(1); id <= 2; id++ {
		if key := k.key(t, id); key.ValidAt(time.Now()) != uptime.KeyRevoked {
			t.Fatalf("key %d still valid: %+v", id, key)
		}
	}
	var rev struct {
		Changed           bool    `json:"changed"`
		PreviousRevokedAt *string `json:"previous_revoked_at"`
		Status            string  `json:"status"`
	}
	if err := json.Unmarshal([]byte(k.mustRun(t, "revoke", "2", "-o", "json")), &rev); err != nil ||
		rev.Changed || rev.PreviousRevokedAt == nil || rev.Status != "revoked" {
		t.Fatalf("json revoke %+v, %v", rev, err)
	}
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	k := newKeysEnv(t)
	first := tokenRE.FindString(k.mustRun(t, "create", "--consumer", "gateway", "--scope", "write", "--rate-limit", "7", "--ttl", "720h"))
	k.mustRun(t, "create", "--consumer", "expired")
	if _, err := k.db.ExecContext(t.Context(), `UPDATE jetmon_api_keys SET expires_at = '2001-01-01 00:00:00' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	out, errOut, err := k.run(t, "rotate", "--grace", "10m", "1")
	if err != nil {
		t.Fatalf("rotate: %v (%s)", err, errOut)
	}
	masked := tokenRE.ReplaceAllString(out, "jm_<token>")
	wantRE := regexp.MustCompile(`^ID          3\nCONSUMER    gateway\nSCOPE       write\nRATE/MIN    7\nEXPIRES     \S+Z\n` +
		`CREATED BY  tester\nREPLACES    key 1, valid until \S+Z\nTOKEN       jm_<token>\n$`)
	if !wantRE.MatchString(masked) || !strings.Contains(errOut, "shown only this once") {
		t.Fatalf("rotate output:\n%s", masked)
	}
	old, renewed := k.key(t, 1), k.key(t, 3)
	if !renewed.ExpiresAt.Equal(old.ExpiresAt) || old.RevokedAt.Before(before.Add(10*time.Minute-time.Second)) ||
		old.RevokedAt.After(time.Now().Add(10*time.Minute)) || old.ValidAt(time.Now()) != uptime.KeyValid {
		t.Fatalf("old %+v new %+v: want the same expiry and a 10 min grace window", old, renewed)
	}
	if key, err := k.tokenKey(t, tokenRE.FindString(out)); err != nil || key.ID != 3 {
		t.Fatalf("new token resolves to %+v, %v", key, err)
	}
	if key, err := k.tokenKey(t, first); err != nil || key.ID != 1 {
		t.Fatalf("old token resolves to %+v, %v", key, err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"rotating during the grace window", []string{"rotate", "1"}, "already scheduled for revocation at"},
		{"expired key", []string{"rotate", "2"}, "rotate api key 2: api key expired at 2001-01-01T00:00:00Z: create a new key instead"},
		{"unknown key", []string{"rotate", "42"}, "api key 42: not found"},
		{"bad grace", []string{"rotate", "--grace", "soon", "3"}, `--grace: "soon"`},
	}
	for _, tt := range tests {
		if _, _, err := k.run(t, tt.args...); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	out = k.mustRun(t, "rotate", "--grace", "0", "-o", "json", "3")
	var rot struct {
		ID       int64  `json:"id"`
		Token    string `json:"token"`
		Replaces struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"replaces"`
	}
	if err := json.Unmarshal([]byte(out), &rot); err != nil || rot.ID != 4 || rot.Replaces.ID != 3 ||
		rot.Replaces.Status != "revoked" || !tokenRE.MatchString(rot.Token) {
		t.Fatalf("json rotate %s, %v", out, err)
	}
	if _, err := k.tokenKey(t, "jm_unknown"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestParseTTL(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		"zero":         {in: "0", want: 0},
		"days":         {in: "90d", want: 90 * 24 * time.Hour},
		"go duration":  {in: "1h30m", want: 90 * time.Minute},
		"negative":     {in: "-5m", wantErr: true},
		"weeks":        {in: "2w", wantErr: true},
		"fraction day": {in: "1.5d", wantErr: true},
		"empty":        {in: "", wantErr: true},
	}
	for name, tt := range tests {
		got, err := parseTTL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: parseTTL(%q) = %v, %v", name, tt.in, got, err)
		}
	}
}
