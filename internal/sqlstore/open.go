package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Defaults applied by Open for zero PoolOpts fields and DSN timeouts.
const (
	DefaultMaxOpenConns    = 10
	DefaultMaxIdleConns    = 5
	DefaultConnMaxLifetime = 5 * time.Minute
	DefaultDialTimeout     = 10 * time.Second
	DefaultIOTimeout       = 30 * time.Second
)

// defaultSQLMode is MySQL 8.0's default sql_mode. MariaDB accepts every flag,
// and its ONLY_FULL_GROUP_BY is stricter than MySQL's, so a query that works
// on the MariaDB test server also works on MySQL.
const defaultSQLMode = "'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE," +
	"NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"

// PoolOpts sizes a connection pool. Zero fields take the Default* values.
type PoolOpts struct {
	MaxOpenConns    int           // connections open at once (default 10)
	MaxIdleConns    int           // idle connections kept (default 5)
	ConnMaxLifetime time.Duration // a connection is replaced after this long (default 5m)
	// Logger receives the MySQL driver's own messages (bad connections,
	// unexpected packets) at WARN. Nil discards them.
	Logger *slog.Logger
}

func (o PoolOpts) withDefaults() (PoolOpts, error) {
	if o.MaxOpenConns < 0 || o.MaxIdleConns < 0 || o.ConnMaxLifetime < 0 {
		return o, errors.New("pool options must not be negative")
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = DefaultMaxOpenConns
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = min(DefaultMaxIdleConns, o.MaxOpenConns)
	}
	if o.ConnMaxLifetime == 0 {
		o.ConnMaxLifetime = DefaultConnMaxLifetime
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Open parses dsn (go-sql-driver format, e.g. "user:pass@tcp(host:3306)/jetmon"),
// forces the session settings described in the package comment, applies
// DefaultDialTimeout and DefaultIOTimeout (read and write) unless the DSN sets
// timeout, readTimeout or writeTimeout, sizes the pool from opts, and pings
// the server. multiStatements is always off. The caller closes the returned
// pool.
func Open(ctx context.Context, dsn string, opts PoolOpts) (*sql.DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open mysql: %w", err)
	}
	cfg, err := sessionConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Logger = driverLogger{opts.Logger}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultIOTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultIOTimeout
	}
	return openPool(ctx, cfg, opts)
}

// sessionConfig parses dsn and forces the settings every session needs.
func sessionConfig(dsn string) (*mysql.Config, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse mysql dsn: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.MultiStatements = false
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = defaultSQLMode
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultDialTimeout
	}
	cfg.Logger = driverLogger{slog.New(slog.DiscardHandler)}
	return cfg, nil
}

// openPool opens a pool for cfg, sized by opts (already defaulted), and pings it.
func openPool(ctx context.Context, cfg *mysql.Config, opts PoolOpts) (*sql.DB, error) {
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("open mysql %s: %w", where(cfg), err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("ping mysql %s: %w", where(cfg), err), db.Close())
	}
	return db, nil
}

// where names the server and database of cfg for error messages, without
// credentials.
func where(cfg *mysql.Config) string {
	return cfg.Net + "(" + cfg.Addr + ")/" + cfg.DBName
}

// databaseName is what EnsureDatabase accepts: a plain identifier, so it can
// be quoted with backticks without escaping.
var databaseName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// EnsureDatabase creates database name (utf8mb4, utf8mb4_unicode_ci) on the
// server at serverDSN unless it exists. Any database named in serverDSN is
// ignored. name must match [A-Za-z0-9_]{1,64}.
func EnsureDatabase(ctx context.Context, serverDSN, name string) error {
	if !databaseName.MatchString(name) {
		return fmt.Errorf("ensure database %q: name must match %s", name, databaseName)
	}
	cfg, err := sessionConfig(serverDSN)
	if err != nil {
		return err
	}
	cfg.DBName = ""
	db, err := openPool(ctx, cfg, PoolOpts{MaxOpenConns: 1, MaxIdleConns: 1, ConnMaxLifetime: time.Minute})
	if err != nil {
		return fmt.Errorf("ensure database %s: %w", name, err)
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+
		"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	if err != nil {
		err = fmt.Errorf("ensure database %s: %w", name, err)
	}
	return errors.Join(err, db.Close())
}

// driverLogger routes go-sql-driver's log lines to slog.
type driverLogger struct{ l *slog.Logger }

// Print implements mysql.Logger.
func (d driverLogger) Print(v ...any) {
	d.l.Warn(fmt.Sprint(v...), "component", "mysql")
}
