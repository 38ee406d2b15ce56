package apistore

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/api"
)

// Defaults of Opts.
const (
	// DefaultInFlightTTL is how long an idempotency claim whose request
	// never completed (its API process died) blocks a retry.
	DefaultInFlightTTL = 5 * time.Minute
	// DefaultIdempotencyTTL is how long a stored response is replayed when
	// the record's ExpiresAt is zero.
	DefaultIdempotencyTTL = 24 * time.Hour
)

// errDupEntry is MySQL's ER_DUP_ENTRY.
const errDupEntry = 1062

// maxInList is how many ids one IN (...) list holds: the API's pages are at
// most a few hundred ids, so a call is one statement.
const maxInList = 1000

// Opts configures a Store. The zero value is usable.
type Opts struct {
	// Now is the clock of cutoffs and timestamps the store writes (key
	// revocation, idempotency expiry, rotation grace); default time.Now.
	Now func() time.Time
	// InFlightTTL bounds an idempotency claim that was never completed;
	// default DefaultInFlightTTL. It must be longer than the slowest
	// request (a trigger-now waits for a check).
	InFlightTTL time.Duration
	// Logger gets one WARN line per read that met column values it could
	// not decode (they are replaced by empty values). Nil discards.
	Logger *slog.Logger
}

// Store is the API's MySQL store: every method is one statement or one
// transaction on db.
type Store struct {
	db          *sql.DB
	now         func() time.Time
	inFlightTTL time.Duration
	logger      *slog.Logger
}

// Compile-time checks that Store satisfies the API's ports.
var (
	_ api.KeyStore          = (*Store)(nil)
	_ api.IdempotencyStore  = (*Store)(nil)
	_ api.Auditor           = (*Store)(nil)
	_ api.SiteStore         = (*Store)(nil)
	_ api.EventStore        = (*Store)(nil)
	_ api.StatsStore        = (*Store)(nil)
	_ api.WebhookStore      = (*Store)(nil)
	_ api.AlertContactStore = (*Store)(nil)
	_ api.DeliveryStore     = (*Store)(nil)
)

// New returns a store on db (a pool from sqlstore.Open with the schema
// applied). It does no I/O.
func New(db *sql.DB, opts Opts) (*Store, error) {
	if db == nil {
		return nil, errors.New("new api store: nil db")
	}
	if opts.InFlightTTL < 0 {
		return nil, fmt.Errorf("new api store: in-flight TTL %v must not be negative", opts.InFlightTTL)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.InFlightTTL == 0 {
		opts.InFlightTTL = DefaultInFlightTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, now: opts.Now, inFlightTTL: opts.InFlightTTL, logger: opts.Logger}, nil
}

// clock is the store's now in UTC, to the millisecond the DATETIME(3)
// columns keep (MariaDB truncates and MySQL rounds the rest).
func (s *Store) clock() time.Time { return ms(s.now()) }

// ms is t in UTC truncated to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// notFound wraps api.ErrNotFound with what was missing.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), api.ErrNotFound)
}

// isMySQLError reports whether err is the server's error number.
func isMySQLError(err error, number uint16) bool {
	me, ok := errors.AsType[*mysql.MySQLError](err)
	return ok && me.Number == number
}

// placeholders returns "?, ?, ..." for n values (n >= 1).
func placeholders(n int) string {
	return "?" + strings.Repeat(", ?", n-1)
}

// anys converts ids to query arguments.
func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// nullTime is t for a nullable DATETIME column: NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

// nullString is s for a nullable column: NULL when empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// timeOf is a scanned nullable time in UTC, zero when NULL.
func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// escapeLike escapes s for a LIKE pattern with the default escape
// character (backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// lastChars is the last n characters of s (all of s when shorter).
func lastChars(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[len(r)-n:])
}
