package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	mysqlmigrate "github.com/golang-migrate/migrate/v4/database/mysql"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/jetmon-mesh/jetmon/migrations"
)

// MigrationsTable is the table in which Migrate records the applied schema
// version (golang-migrate's layout: version, dirty). It is not Jetmon v2's
// jetmon_schema_migrations, whose layout differs.
const MigrationsTable = "jetmon_mesh_migrations"

// releaseTimeout bounds the release of the migration lock after ctx is done.
const releaseTimeout = 5 * time.Second

// MigrateResult reports the schema versions one Migrate call saw. Version 0
// is an empty database; From == To means nothing was pending.
type MigrateResult struct {
	From uint // version before this call
	To   uint // version after this call
}

// Migrate applies every embedded migration newer than the database's version
// to the database named in dsn; with none pending it changes nothing.
// Concurrent calls (from any process) run one at a time and all succeed. It
// waits for the lock as long as ctx allows; if ctx ends while migrations run,
// Migrate stops after the current one and returns ctx's error. Migrations run
// on their own connections without read or write timeouts unless the DSN sets
// them, so a long ALTER is not cut off. logger (nil: discard) gets one line
// per applied migration.
func Migrate(ctx context.Context, dsn string, logger *slog.Logger) (res MigrateResult, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := sessionConfig(dsn)
	if err != nil {
		return MigrateResult{}, err
	}
	if cfg.DBName == "" {
		return MigrateResult{}, errors.New("migrate: the dsn names no database")
	}
	cfg.Logger = driverLogger{logger}
	// One connection holds sqlstore's lock, the other runs golang-migrate.
	db, err := openPool(ctx, cfg, PoolOpts{MaxOpenConns: 2, MaxIdleConns: 2, ConnMaxLifetime: time.Hour})
	if err != nil {
		return MigrateResult{}, fmt.Errorf("migrate: %w", err)
	}
	// Closing the pool ends its sessions, which releases any lock still held.
	defer func() { err = errors.Join(err, db.Close()) }()

	release, err := lockMigrations(ctx, db, cfg.DBName)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("migrate %s: %w", cfg.DBName, err)
	}
	res, err = migrateLocked(ctx, db, cfg.DBName, logger)
	err = errors.Join(err, release())
	if err != nil {
		return res, fmt.Errorf("migrate %s: %w", cfg.DBName, err)
	}
	if res.From != res.To {
		logger.Info("schema migrated", "component", "migrate", "database", cfg.DBName,
			"from_version", res.From, "to_version", res.To)
	}
	return res, nil
}

// migrateLocked runs golang-migrate's Up on a dedicated connection of db.
func migrateLocked(ctx context.Context, db *sql.DB, dbName string, logger *slog.Logger) (MigrateResult, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return MigrateResult{}, fmt.Errorf("read embedded migrations: %w", err)
	}
	latest, err := latestVersion(src)
	if err != nil {
		return MigrateResult{}, errors.Join(err, src.Close())
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return MigrateResult{}, errors.Join(fmt.Errorf("connect: %w", err), src.Close())
	}
	drv, err := mysqlmigrate.WithConnection(ctx, conn, &mysqlmigrate.Config{
		DatabaseName:    dbName,
		MigrationsTable: MigrationsTable,
	})
	if err != nil {
		return MigrateResult{}, errors.Join(fmt.Errorf("prepare %s: %w", MigrationsTable, err), conn.Close(), src.Close())
	}
	m, err := migrate.NewWithInstance("iofs", src, "mysql", drv)
	if err != nil {
		return MigrateResult{}, errors.Join(err, drv.Close(), src.Close())
	}
	m.Log = migrateLogger{logger}
	res, err := up(ctx, m, latest)
	srcErr, dbErr := m.Close()
	return res, errors.Join(err, srcErr, dbErr)
}

// up applies pending migrations with m, stopping early when ctx ends.
func up(ctx context.Context, m *migrate.Migrate, latest uint) (MigrateResult, error) {
	from, err := version(m)
	if err != nil {
		return MigrateResult{}, err
	}
	res := MigrateResult{From: from, To: from}
	if from > latest {
		return res, fmt.Errorf("schema version %d is newer than this binary's %d: run a newer jetmon", from, latest)
	}
	stop := context.AfterFunc(ctx, func() { m.GracefulStop <- true })
	defer stop()
	upErr := m.Up()
	if res.To, err = version(m); err != nil {
		return res, errors.Join(upErr, err)
	}
	var dirty migrate.ErrDirty
	switch {
	case errors.As(upErr, &dirty):
		return res, fmt.Errorf("version %d is dirty: a migration failed part-way, repair the schema and reset %s by hand: %w",
			dirty.Version, MigrationsTable, upErr)
	case upErr != nil && !errors.Is(upErr, migrate.ErrNoChange):
		return res, fmt.Errorf("apply migrations: %w", upErr)
	case ctx.Err() != nil && res.To < latest:
		return res, fmt.Errorf("stopped at version %d of %d: %w", res.To, latest, ctx.Err())
	}
	return res, nil
}

// version returns m's current schema version, 0 when none was applied.
func version(m *migrate.Migrate) (uint, error) {
	v, _, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// latestVersion returns the highest version in src.
func latestVersion(src source.Driver) (uint, error) {
	v, err := src.First()
	if err != nil {
		return 0, fmt.Errorf("first embedded migration: %w", err)
	}
	for {
		next, err := src.Next(v)
		if errors.Is(err, fs.ErrNotExist) {
			return v, nil
		}
		if err != nil {
			return 0, fmt.Errorf("embedded migration after %d: %w", v, err)
		}
		v = next
	}
}

// lockMigrations takes sqlstore's advisory lock for dbName on a dedicated
// connection of db, waiting until it is free or ctx ends. The returned
// function releases it; if that fails, closing db ends the session, which
// releases the lock server-side.
func lockMigrations(ctx context.Context, db *sql.DB, dbName string) (func() error, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	name := lockName(dbName)
	for {
		// GET_LOCK returns 1 when taken, 0 after the timeout. A short timeout
		// in a loop lets ctx interrupt the wait.
		var got sql.NullInt64
		err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 1)", name).Scan(&got)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("take lock %s: %w", name, err), conn.Close())
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(fmt.Errorf("take lock %s: %w", name, err), conn.Close())
		}
	}
	return func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		_, err := conn.ExecContext(rctx, "SELECT RELEASE_LOCK(?)", name)
		if err != nil {
			err = fmt.Errorf("release lock %s: %w", name, err)
		}
		return errors.Join(err, conn.Close())
	}, nil
}

// lockName is the server-wide advisory lock name for migrating dbName;
// MySQL limits lock names to 64 characters.
func lockName(dbName string) string {
	name := "jetmon_migrate:" + dbName
	if len(name) <= 64 {
		return name
	}
	return fmt.Sprintf("jetmon_migrate:%x", sha256.Sum256([]byte(dbName)))[:64]
}

// migrateLogger adapts slog to golang-migrate's Logger.
type migrateLogger struct{ l *slog.Logger }

// Printf implements migrate.Logger.
func (m migrateLogger) Printf(format string, v ...any) {
	m.l.Info(strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "migrate")
}

// Verbose implements migrate.Logger.
func (m migrateLogger) Verbose() bool { return false }
