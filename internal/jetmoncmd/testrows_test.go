package jetmoncmd

import (
	"context"
	"database/sql"
	"errors"
)

// The row helpers every family's world shares, as root on the test's
// database.

// exec runs a fixture statement.
func (w *testWorld) exec(query string, args ...any) sql.Result {
	w.t.Helper()
	res, err := w.db.ExecContext(w.t.Context(), query, args...)
	if err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return res
}

// insertID runs an INSERT and returns the new id.
func (w *testWorld) insertID(query string, args ...any) int64 {
	w.t.Helper()
	id, err := w.exec(query, args...).LastInsertId()
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// scalar reads one value ("" for NULL).
func (w *testWorld) scalar(query string, args ...any) string {
	w.t.Helper()
	var v sql.NullString
	if err := w.db.QueryRowContext(w.t.Context(), query, args...).Scan(&v); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return v.String
}

// addActiveSite inserts an active site of blog in bucket, checked at url
// every checkInterval minutes (0: every MIN_CHECK_INTERVAL).
func (w *testWorld) addActiveSite(blog int64, bucket int, url string, checkInterval int) {
	w.t.Helper()
	_, err := w.db.ExecContext(w.t.Context(), `INSERT INTO jetpack_monitor_sites
		(blog_id, bucket_no, monitor_url, monitor_active, check_interval) VALUES (?, ?, ?, 1, ?)`,
		blog, bucket, url, checkInterval)
	if err != nil {
		w.t.Fatalf("insert site %d: %v", blog, err)
	}
}

// siteChecked reports nil once blog has a last_checked_at.
func (w *testWorld) siteChecked(blog int64) error {
	var at sql.NullTime
	err := w.db.QueryRowContext(w.t.Context(),
		"SELECT last_checked_at FROM jetpack_monitor_sites WHERE blog_id = ?", blog).Scan(&at)
	if err == nil && !at.Valid {
		err = errors.New("not checked yet")
	}
	return err
}

// queryRows runs query and scans each of its rows with scan.
func queryRows[T any](ctx context.Context, db *sql.DB, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
