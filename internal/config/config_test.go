package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/config"
)

// env builds a getenv function from pairs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"invalid-unknown-key.json":        `unknown config key "NUM_OF_CHEKS"`,
		"invalid-lowercase-key.json":      `unknown config key "num_of_checks"`,
		"invalid-type.json":               "config key NUM_OF_CHECKS: must be an integer, got string",
		"invalid-syntax.json":             "parse config",
		"invalid-email-transport.json":    `EMAIL_TRANSPORT "sendmail": must be one of: stub, smtp, wpcom`,
		"invalid-smtp-no-host.json":       "SMTP_HOST is required when EMAIL_TRANSPORT=smtp",
		"invalid-smtp-no-port.json":       "SMTP_PORT must be > 0 when EMAIL_TRANSPORT=smtp",
		"invalid-wpcom-no-endpoint.json":  "WPCOM_EMAIL_ENDPOINT is required when EMAIL_TRANSPORT=wpcom",
		"invalid-num-of-checks.json":      "NUM_OF_CHECKS must be >= 1",
		"invalid-rollout-max.json":        "ROLLOUT_BUCKET_MAX 100 must be < BUCKET_TOTAL 100",
		"invalid-rollout-order.json":      "ROLLOUT_BUCKET_MIN 50 must be <= ROLLOUT_BUCKET_MAX 10",
		"invalid-min-check-interval.json": "MIN_CHECK_INTERVAL_SEC must be >= 5",
		"invalid-log-format.json":         `LOG_FORMAT "xml": must be text or json`,
		"invalid-region.json":             `REGION "us.east": must be 1-64 of A-Z a-z 0-9 _ -`,
		"invalid-retry-schedule.json":     `RETRY_SCHEDULE[1] "soon": must be a positive duration`,
		"invalid-wpcom-notify.json":       "AUTH_TOKEN is required when WPCOM_NOTIFY_ENABLE is true",
		"invalid-source-addr.json":        `SOURCE_ADDR "eth0": must be an IP address`,
		"invalid-replicas.json":           "NATS_REPLICAS must be between 1 and 5",
	}
	files, err := filepath.Glob("testdata/invalid-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Fatalf("%d invalid-*.json files but %d table rows: every file needs a row", len(files), len(tests))
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(filepath.Join("testdata", file), env("NODE_ID", "n1"))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, want)
			}
		})
	}
}

func TestLoadInvalidEnv(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env  []string
		want string
	}{
		"non-integer":         {[]string{"JETMON_NUM_OF_CHECKS", "x"}, `JETMON_NUM_OF_CHECKS="x": must be an integer`},
		"non-boolean":         {[]string{"JETMON_DEBUG", "maybe"}, `JETMON_DEBUG="maybe": must be true or false`},
		"bad db port":         {[]string{"DB_PORT", "mysql"}, `DB_PORT="mysql": must be an integer`},
		"bad schedule":        {[]string{"JETMON_RETRY_SCHEDULE", "[1m]"}, "JETMON_RETRY_SCHEDULE: not a JSON array"},
		"bad email":           {[]string{"JETMON_EMAIL_TRANSPORT", "pigeon"}, "must be one of: stub, smtp, wpcom"},
		"no delivery workers": {[]string{"JETMON_DELIVERY_WORKERS", "0"}, "DELIVERY_WORKERS must be between 1 and 256"},
		"delivery timeout":    {[]string{"JETMON_DELIVERY_TIMEOUT_SEC", "0"}, "DELIVERY_TIMEOUT_SEC must be between 1 and 300"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("", env(append(tc.env, "JETMON_NODE_ID", "n1")...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLegacyStatusProjection(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body     string
		want     bool
		warnings int
	}{
		"default is enabled":       {`{}`, true, 0},
		"new key false":            {`{"LEGACY_STATUS_PROJECTION_ENABLE": false}`, false, 0},
		"alias alone false":        {`{"DB_UPDATES_ENABLE": false}`, false, 1},
		"alias alone true":         {`{"DB_UPDATES_ENABLE": true}`, true, 1},
		"both: new key false wins": {`{"LEGACY_STATUS_PROJECTION_ENABLE": false, "DB_UPDATES_ENABLE": true}`, false, 1},
		"both: new key true wins":  {`{"LEGACY_STATUS_PROJECTION_ENABLE": true, "DB_UPDATES_ENABLE": false}`, true, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(writeConfig(t, tc.body), env("JETMON_NODE_ID", "n1"))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LegacyStatusProjection != tc.want {
				t.Errorf("LegacyStatusProjection = %v, want %v", cfg.LegacyStatusProjection, tc.want)
			}
			if len(cfg.Warnings) != tc.warnings {
				t.Errorf("warnings = %q, want %d", cfg.Warnings, tc.warnings)
			}
		})
	}
}

func TestEmailTransport(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body        string
		want        string
		stubWarning bool
	}{
		"default":       {`{}`, "stub", true},
		"empty alias":   {`{"EMAIL_TRANSPORT": ""}`, "stub", true},
		"explicit stub": {`{"EMAIL_TRANSPORT": "stub"}`, "stub", true},
		"smtp":          {`{"EMAIL_TRANSPORT": "smtp", "SMTP_HOST": "mail", "SMTP_PORT": 587}`, "smtp", false},
		"wpcom":         {`{"EMAIL_TRANSPORT": "wpcom", "WPCOM_EMAIL_ENDPOINT": "https://example.invalid/mail"}`, "wpcom", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(writeConfig(t, tc.body), env("JETMON_NODE_ID", "n1"))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Email.Transport != tc.want || cfg.EmailLine() != "email_transport="+tc.want {
				t.Errorf("transport = %q (%s), want %q", cfg.Email.Transport, cfg.EmailLine(), tc.want)
			}
			if got := cfg.EmailStubWarning() != ""; got != tc.stubWarning {
				t.Errorf("stub warning present = %v, want %v", got, tc.stubWarning)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `{"NUM_OF_CHECKS": 3, "REGION": "eu", "DB_NAME": "fromfile"}`)
	cfg, err := config.Load(path, env(
		"JETMON_NUM_OF_CHECKS", "5",
		"JETMON_REGION", "us-east",
		"JETMON_LEGACY_STATUS_PROJECTION_ENABLE", "false",
		"JETMON_RETRY_SCHEDULE", "10s, 2m",
		"JETMON_NODE_ID", "n1",
		"DB_HOST", "db.internal",
		"DB_NAME", "legacy",
		"JETMON_DB_NAME", "prefixed",
		"DB_PASSWORD", "hunter2",
	))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumOfChecks != 5 || cfg.Region != "us-east" || cfg.LegacyStatusProjection {
		t.Errorf("env did not override: checks=%d region=%s projection=%v", cfg.NumOfChecks, cfg.Region, cfg.LegacyStatusProjection)
	}
	if want := []time.Duration{10 * time.Second, 2 * time.Minute}; !slices.Equal(cfg.RetrySchedule, want) {
		t.Errorf("RetrySchedule = %v, want %v", cfg.RetrySchedule, want)
	}
	if got, want := cfg.DB.ConnString(), "root:hunter2@tcp(db.internal:3306)/prefixed"; got != want {
		t.Errorf("ConnString = %q, want %q (JETMON_DB_NAME beats DB_NAME beats the file)", got, want)
	}
}

func TestDBDSNWins(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env("DB_DSN", "u:p@tcp(x:1)/y", "DB_HOST", "ignored", "JETMON_NODE_ID", "n1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.DB.ConnString(); got != "u:p@tcp(x:1)/y" {
		t.Errorf("ConnString = %q", got)
	}
}

func TestRetiredJetmonKeysWarn(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("testdata/jetmon-v2.json", env("JETMON_NODE_ID", "n1"))
	if err != nil {
		t.Fatal(err)
	}
	// NUM_WORKERS, DATASET_SIZE, PINNED_BUCKET_MIN/MAX, VERIFIERS, plus the DB_UPDATES_ENABLE rename.
	if len(cfg.Warnings) != 6 {
		t.Fatalf("warnings = %d, want 6: %q", len(cfg.Warnings), cfg.Warnings)
	}
	for _, key := range []string{"NUM_WORKERS", "DATASET_SIZE", "PINNED_BUCKET_MIN", "PINNED_BUCKET_MAX", "VERIFIERS", "DB_UPDATES_ENABLE"} {
		n := 0
		for _, w := range cfg.Warnings {
			if strings.Contains(w, key) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("key %s named in %d warnings, want exactly 1", key, n)
		}
	}
	if cfg.LegacyStatusProjection {
		t.Error("DB_UPDATES_ENABLE=false alone must disable the projection")
	}
}

func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env("JETMON_AUTH_TOKEN", "s3cret-token", "DB_PASSWORD", "s3cret-db",
		"JETMON_SMTP_PASSWORD", "s3cret-smtp", "JETMON_NODE_ID", "n1"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "config", cfg)
	asJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"json": string(asJSON), "slog": logged.String(), "db display": cfg.DB.Display(),
	} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("%s output leaks a secret: %s", name, out)
		}
	}
	if cfg.AuthToken.Reveal() != "s3cret-token" {
		t.Error("Reveal must return the value")
	}
}

func TestSampleConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "config", "config-sample.json")
	cfg, err := config.Load(path, env())
	if err != nil {
		t.Fatalf("sample config must load cleanly: %v", err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("sample config warns: %q", cfg.Warnings)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		t.Fatal(err)
	}
	for _, key := range config.Keys() {
		if _, ok := keys[key]; !ok && key != "DB_UPDATES_ENABLE" {
			t.Errorf("sample config does not document key %s", key)
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env())
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"projection on":      cfg.LegacyStatusProjection,
		"3 checks":           cfg.NumOfChecks == 3,
		"range 0..999":       cfg.RolloutBucketMin == 0 && cfg.RolloutBucketMax == 999,
		"timeout 10s":        cfg.NetCommsTimeout == 10*time.Second,
		"jetmon user agent":  cfg.UserAgent == config.DefaultUserAgent,
		"node id from host":  cfg.NodeID != "",
		"5-step retry":       len(cfg.RetrySchedule) == 5 && cfg.RetrySchedule[4] == 6*time.Hour,
		"8 delivery workers": cfg.DeliveryWorkers == 8,
		"30s sends":          cfg.DeliveryTimeout == 30*time.Second,
		"embedded nats":      cfg.NATS.URL == "",
		"db from parts":      cfg.DB.ConnString() == "root@tcp(127.0.0.1:3306)/jetmon",
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("default %s does not hold: %+v", name, cfg)
		}
	}
}
