package jetmoncmd

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/internal/checkreport"
	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/config"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Output formats of `jetmon keys`.
const (
	keysTable = "table"
	keysJSON  = "json"
)

// keysRun is what every keys subcommand starts from: where the config comes
// from, the output format and the writers.
type keysRun struct {
	env    cli.Env
	cmd    *cobra.Command
	output string
}

// keysCmd manages API keys directly in MySQL: there is no key endpoint.
func keysCmd(env cli.Env) *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Manage REST API keys (create, list, revoke, rotate); tokens are shown once",
		Long: "Manage the REST API's keys in jetmon_api_keys (direct database access; the API has no key endpoint). " +
			"A token is \"jm_\" and 52 base32 characters; only its SHA-256 is stored, so it is printed once, by create " +
			"and rotate. Scopes: read < write < admin. Cutoffs are half-open: a key is valid strictly before its " +
			"revoked_at and expires_at.",
	}
	run := &keysRun{env: env}
	keys.PersistentFlags().StringVarP(&run.output, "output", "o", keysTable, "table or json")
	keys.AddCommand(keysCreateCmd(run), keysListCmd(run), keysRevokeCmd(run), keysRotateCmd(run))
	return keys
}

// withStore validates the output flag, loads the config, opens a small pool
// and calls fn with a store on it.
func (r *keysRun) withStore(cmd *cobra.Command, fn func(ctx context.Context, s *apistore.Store) error) error {
	if r.output != keysTable && r.output != keysJSON {
		return fmt.Errorf("--output %q: must be table or json", r.output)
	}
	r.cmd = cmd
	cfg, err := config.Load(cli.ConfigPath(cmd, r.env), r.env.Getenv)
	if err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	ctx := cmd.Context()
	openCtx, cancel := context.WithTimeout(ctx, cfg.NetCommsTimeout)
	db, err := sqlstore.Open(openCtx, cfg.DB.ConnString(), sqlstore.PoolOpts{MaxOpenConns: 2})
	cancel()
	if err != nil {
		return fmt.Errorf("mysql %s: %w", cfg.DB.Display(), err)
	}
	defer func(db *sql.DB) { _ = db.Close() }(db)
	store, err := apistore.New(db, apistore.Opts{})
	if err != nil {
		return err
	}
	return fn(ctx, store)
}

func (r *keysRun) stdout() io.Writer { return r.cmd.OutOrStdout() }

// operator is who runs the command: $USER, else $LOGNAME, else "cli".
func (r *keysRun) operator() string {
	for _, name := range []string{"USER", "LOGNAME"} {
		if v := r.env.Getenv(name); v != "" {
			return v
		}
	}
	return "cli"
}

func keysCreateCmd(run *keysRun) *cobra.Command {
	var (
		consumer, scope, ttl, createdBy string
		rate                            int
	)
	cmd := &cobra.Command{
		Use:   "create --consumer NAME [--scope read|write|admin] [--rate-limit N] [--ttl 90d] [--created-by OP]",
		Short: "Create a key and print its token once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := uptime.ParseScope(scope)
			if err != nil {
				return fmt.Errorf("--scope: %w", err)
			}
			d, err := parseTTL(ttl)
			if err != nil {
				return fmt.Errorf("--ttl: %w", err)
			}
			if createdBy == "" {
				createdBy = run.operator()
			}
			return run.withStore(cmd, func(ctx context.Context, st *apistore.Store) error {
				key, token, err := st.CreateKey(ctx, apistore.NewKey{Consumer: consumer, Scope: s,
					RateLimitPerMinute: rate, TTL: d, CreatedBy: createdBy})
				if err != nil {
					return err
				}
				return run.printNewKey(key, token, nil)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&consumer, "consumer", "", "who calls with the key (required; \"gateway\" may send tenant headers)")
	f.StringVar(&scope, "scope", string(uptime.ScopeRead), "read, write or admin")
	f.IntVar(&rate, "rate-limit", 0, "requests per minute (0: the scope's default, read 60, write 30, admin 60)")
	f.StringVar(&ttl, "ttl", "0", "lifetime as a Go duration (720h) or days (90d); 0 never expires")
	f.StringVar(&createdBy, "created-by", "", "operator recorded on the key (default $USER)")
	_ = cmd.MarkFlagRequired("consumer")
	return cmd
}

func keysListCmd(run *keysRun) *cobra.Command {
	var includeRevoked bool
	cmd := &cobra.Command{
		Use:   "list [--include-revoked]",
		Short: "List keys with their status (active, revokes-at <time>, revoked, expired)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run.withStore(cmd, func(ctx context.Context, st *apistore.Store) error {
				keys, err := st.ListKeys(ctx, includeRevoked)
				if err != nil {
					return err
				}
				return run.printKeys(keys, time.Now())
			})
		},
	}
	cmd.Flags().BoolVar(&includeRevoked, "include-revoked", false, "also list revoked keys")
	return cmd
}

func keysRevokeCmd(run *keysRun) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key now (a scheduled revocation is brought forward; revoking twice changes nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := keyID(args[0])
			if err != nil {
				return err
			}
			return run.withStore(cmd, func(ctx context.Context, st *apistore.Store) error {
				rev, err := st.RevokeKey(ctx, id)
				if err != nil {
					return err
				}
				return run.printRevocation(rev)
			})
		},
	}
}

func keysRotateCmd(run *keysRun) *cobra.Command {
	var grace, createdBy string
	cmd := &cobra.Command{
		Use:   "rotate [--grace 5m] [--created-by OP] ID",
		Short: "Replace a key: the new key keeps consumer, scope, rate and expiry; the old one works for --grace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := keyID(args[0])
			if err != nil {
				return err
			}
			g, err := parseTTL(grace)
			if err != nil {
				return fmt.Errorf("--grace: %w", err)
			}
			if createdBy == "" {
				createdBy = run.operator()
			}
			return run.withStore(cmd, func(ctx context.Context, st *apistore.Store) error {
				rot, err := st.RotateKey(ctx, id, g, createdBy)
				if err != nil {
					return err
				}
				return run.printNewKey(rot.New, rot.Token, &rot.Old)
			})
		},
	}
	cmd.Flags().StringVar(&grace, "grace", "5m", "how long the old key keeps working (0: revoked at once)")
	cmd.Flags().StringVar(&createdBy, "created-by", "", "operator recorded on the new key (default $USER)")
	return cmd
}

// keyID parses a key id argument.
func keyID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("key id %q: must be a positive integer", arg)
	}
	return id, nil
}

// daysPattern is a --ttl in whole days.
var daysPattern = regexp.MustCompile(`^([0-9]{1,5})d$`)

// parseTTL accepts a Go duration ("720h", "90m", "0") or whole days ("90d").
func parseTTL(v string) (time.Duration, error) {
	if m := daysPattern.FindStringSubmatch(v); m != nil {
		days, _ := strconv.Atoi(m[1])
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q: want a Go duration (720h) or days (90d)", v)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", v)
	}
	return d, nil
}

// keyStatus is a key's state at now: active, revokes-at <time> (a grace
// window), revoked or expired.
func keyStatus(k uptime.APIKey, now time.Time) string {
	switch k.ValidAt(now) {
	case uptime.KeyRevoked:
		return "revoked"
	case uptime.KeyExpired:
		return "expired"
	case uptime.KeyValid:
	}
	if !k.RevokedAt.IsZero() {
		return "revokes-at " + keysStamp(k.RevokedAt, "")
	}
	return "active"
}

// keysStamp formats t in RFC 3339 UTC, or none when zero.
func keysStamp(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// keysTabs is a tab-aligned table on w.
func keysTabs(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// keysSafe makes a database string printable on a terminal.
func keysSafe(s string) string { return checkreport.Sanitize(s) }

// printKeys writes the list as a table or JSON.
func (r *keysRun) printKeys(keys []uptime.APIKey, now time.Time) error {
	if r.output == keysJSON {
		out := make([]keyJSON, len(keys))
		for i, k := range keys {
			out[i] = keysJSONOf(k, now)
		}
		return keysWriteJSON(r.stdout(), out)
	}
	tw := keysTabs(r.stdout())
	// tabwriter buffers: a write error surfaces at Flush.
	_, _ = fmt.Fprintln(tw, "ID\tCONSUMER\tSCOPE\tRATE/MIN\tEXPIRES\tLAST USED\tSTATUS")
	for _, k := range keys {
		_, _ = fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", k.ID, keysSafe(k.Consumer), k.Scope, k.RateLimitPerMinute,
			keysStamp(k.ExpiresAt, "never"), keysStamp(k.LastUsedAt, "never"), keyStatus(k, now))
	}
	return tw.Flush() //nolint:wrapcheck // a write error to the command's own output
}

// printNewKey writes a created or rotated key with its token; replaced is
// the rotated key.
func (r *keysRun) printNewKey(k uptime.APIKey, token string, replaced *uptime.APIKey) error {
	now := time.Now()
	if r.output == keysJSON {
		out := newKeyJSON{keyJSON: keysJSONOf(k, now), Token: token}
		if replaced != nil {
			old := keysJSONOf(*replaced, now)
			out.Replaces = &old
		}
		return keysWriteJSON(r.stdout(), out)
	}
	tw := keysTabs(r.stdout())
	// tabwriter buffers: a write error surfaces at Flush.
	_, _ = fmt.Fprintf(tw, "ID\t%d\nCONSUMER\t%s\nSCOPE\t%s\nRATE/MIN\t%d\nEXPIRES\t%s\nCREATED BY\t%s\n", k.ID,
		keysSafe(k.Consumer), k.Scope, k.RateLimitPerMinute, keysStamp(k.ExpiresAt, "never"), keysSafe(k.CreatedBy))
	if replaced != nil {
		_, _ = fmt.Fprintf(tw, "REPLACES\tkey %d, valid until %s\n", replaced.ID, keysStamp(replaced.RevokedAt, ""))
	}
	_, _ = fmt.Fprintf(tw, "TOKEN\t%s\n", token)
	if err := tw.Flush(); err != nil {
		return err //nolint:wrapcheck // a write error to the command's own output
	}
	_, err := fmt.Fprintln(r.cmd.ErrOrStderr(), "The token is shown only this once: store it now (only its SHA-256 is kept).")
	return err
}

// printRevocation writes the outcome of a revoke.
func (r *keysRun) printRevocation(rev apistore.Revocation) error {
	k := rev.Key
	if r.output == keysJSON {
		out := revocationJSON{keyJSON: keysJSONOf(k, time.Now()), Changed: rev.Changed, PreviousRevokedAt: keysTime(rev.Previous)}
		return keysWriteJSON(r.stdout(), out)
	}
	var msg string
	switch {
	case !rev.Changed:
		msg = fmt.Sprintf("key %d (%s) was already revoked at %s; nothing changed", k.ID, keysSafe(k.Consumer), keysStamp(k.RevokedAt, ""))
	case !rev.Previous.IsZero():
		msg = fmt.Sprintf("key %d (%s) revoked at %s (its scheduled revocation at %s was brought forward)", k.ID,
			keysSafe(k.Consumer), keysStamp(k.RevokedAt, ""), keysStamp(rev.Previous, ""))
	default:
		msg = fmt.Sprintf("key %d (%s) revoked at %s", k.ID, keysSafe(k.Consumer), keysStamp(k.RevokedAt, ""))
	}
	_, err := fmt.Fprintln(r.stdout(), msg)
	return err
}

// keyJSON is a key in `-o json` output (never its hash).
type keyJSON struct {
	ID                 int64      `json:"id"`
	Consumer           string     `json:"consumer"`
	Scope              string     `json:"scope"`
	RateLimitPerMinute int        `json:"rate_limit_per_minute"`
	ExpiresAt          *time.Time `json:"expires_at"`
	RevokedAt          *time.Time `json:"revoked_at"`
	LastUsedAt         *time.Time `json:"last_used_at"`
	CreatedBy          string     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	Status             string     `json:"status"`
}

// newKeyJSON is a created or rotated key with its token.
type newKeyJSON struct {
	keyJSON
	Token    string   `json:"token"`
	Replaces *keyJSON `json:"replaces,omitempty"`
}

// revocationJSON is the outcome of a revoke.
type revocationJSON struct {
	keyJSON
	Changed           bool       `json:"changed"`
	PreviousRevokedAt *time.Time `json:"previous_revoked_at"`
}

func keysJSONOf(k uptime.APIKey, now time.Time) keyJSON {
	return keyJSON{ID: k.ID, Consumer: k.Consumer, Scope: string(k.Scope), RateLimitPerMinute: k.RateLimitPerMinute,
		ExpiresAt: keysTime(k.ExpiresAt), RevokedAt: keysTime(k.RevokedAt), LastUsedAt: keysTime(k.LastUsedAt),
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt.UTC(), Status: keyStatus(k, now)}
}

// keysTime is t in UTC, nil when zero (JSON null).
func keysTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// keysWriteJSON writes v indented, with a final newline.
func keysWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v) //nolint:wrapcheck // a write error to the command's own output
}
