package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

const errDuplicateKey = 1062 // ER_DUP_ENTRY

func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errDuplicateKey
}

// event is one jetmon_events row inserted open; closed ones are then closed
// with an UPDATE, as the coordinator does.
type event struct {
	endpoint  any // nil or an endpoint id
	checkType string
	disc      any // nil or a discriminator
	closed    bool
}

func TestEventsDedupKey(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	http := event{checkType: "http"}
	closedHTTP := event{checkType: "http", closed: true}
	tests := []struct {
		name    string
		events  []event
		wantDup int // index of the insert that must violate uk_open_dedup, -1 for none
	}{
		{name: "second open event with the same identity is rejected",
			events: []event{http, http}, wantDup: 1},
		{name: "closing the open event lets a new one open, closed ones coexist",
			events: []event{closedHTTP, closedHTTP, closedHTTP, http}, wantDup: -1},
		{name: "an open event still blocks after closed ones",
			events: []event{closedHTTP, http, http}, wantDup: 2},
		{name: "other check type, endpoint or discriminator is another identity",
			events: []event{http, {checkType: "tls_expiry"}, {checkType: "http", endpoint: 7},
				{checkType: "http", disc: "keyword:1"}, {checkType: "http", disc: "keyword:2"}}, wantDup: -1},
		{name: "NULL endpoint is the same identity as endpoint 0",
			events: []event{http, {checkType: "http", endpoint: 0}}, wantDup: 1},
		{name: "NULL discriminator is the same identity as empty",
			events: []event{http, {checkType: "http", disc: ""}}, wantDup: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			blogID := int64(1000 + i)
			for j, ev := range tt.events {
				err := insertEvent(t, db, blogID, ev)
				if j == tt.wantDup {
					if !isDuplicate(err) {
						t.Fatalf("insert %d: err = %v, want duplicate key", j, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("insert %d: %v", j, err)
				}
			}
		})
	}
}

func TestEventsDedupKeyValue(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	if err := insertEvent(t, db, 42, event{checkType: "http", disc: "kw"}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var key sql.NullString
	if err := db.QueryRowContext(t.Context(), "SELECT dedup_key FROM jetmon_events WHERE blog_id = 42").Scan(&key); err != nil {
		t.Fatalf("select: %v", err)
	}
	if !key.Valid || key.String != "42:0:http:kw" {
		t.Errorf("open dedup_key = %v, want 42:0:http:kw", key)
	}
	if _, err := db.ExecContext(t.Context(), "UPDATE jetmon_events SET ended_at = ? WHERE blog_id = 42", time.Now()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := db.QueryRowContext(t.Context(), "SELECT dedup_key FROM jetmon_events WHERE blog_id = 42").Scan(&key); err != nil {
		t.Fatalf("select: %v", err)
	}
	if key.Valid {
		t.Errorf("closed dedup_key = %q, want NULL", key.String)
	}
}

func insertEvent(t *testing.T, db *sql.DB, blogID int64, ev event) error {
	t.Helper()
	res, err := db.ExecContext(t.Context(),
		`INSERT INTO jetmon_events (blog_id, endpoint_id, check_type, discriminator, severity, state, started_at)
		 VALUES (?, ?, ?, ?, 3, 'Seems Down', ?)`, blogID, ev.endpoint, ev.checkType, ev.disc, time.Now())
	if err != nil || !ev.closed {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	_, err = db.ExecContext(t.Context(),
		"UPDATE jetmon_events SET ended_at = ?, resolution_reason = 'probe_cleared' WHERE id = ?", time.Now(), id)
	return err
}

func TestSitesUpdatedAt(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	tests := []struct {
		name      string
		update    string
		wantMoved bool
	}{
		{name: "config change moves updated_at",
			update: "UPDATE jetpack_monitor_sites SET monitor_url = 'https://b.example' WHERE blog_id = ?", wantMoved: true},
		{name: "bookkeeping write that keeps updated_at does not move it",
			update: "UPDATE jetpack_monitor_sites SET site_status = 0, last_checked_at = UTC_TIMESTAMP(), " +
				"updated_at = updated_at WHERE blog_id = ?", wantMoved: false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			blogID := i + 1
			old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			_, err := db.ExecContext(t.Context(),
				"INSERT INTO jetpack_monitor_sites (blog_id, monitor_url, updated_at) VALUES (?, 'https://a.example', ?)",
				blogID, old)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			if _, err := db.ExecContext(t.Context(), tt.update, blogID); err != nil {
				t.Fatalf("update: %v", err)
			}
			var got time.Time
			err = db.QueryRowContext(t.Context(),
				"SELECT updated_at FROM jetpack_monitor_sites WHERE blog_id = ?", blogID).Scan(&got)
			if err != nil {
				t.Fatalf("select: %v", err)
			}
			if moved := !got.Equal(old); moved != tt.wantMoved {
				t.Errorf("updated_at = %v (moved %v), want moved %v", got, moved, tt.wantMoved)
			}
		})
	}
}

func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	delivery := "INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, event_type, payload) " +
		"VALUES (?, ?, ?, 1, 1, 'event.opened', '{}')"
	tests := []struct {
		name    string
		setup   []string // statements run first, must succeed
		stmt    string
		args    []any
		wantDup bool
		wantErr bool
	}{
		{name: "invalid JSON is rejected", wantErr: true,
			stmt: "INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (1, 's', '{not json')"},
		{name: "one delivery per kind, destination and transition", wantDup: true,
			setup: []string{"INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, " +
				"event_type, payload) VALUES ('webhook', 5, 9, 1, 1, 'event.opened', '{}')"},
			stmt: delivery, args: []any{"webhook", 5, 9}},
		{name: "another kind for the same destination id and transition is allowed",
			setup: []string{"INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, " +
				"event_type, payload) VALUES ('webhook', 6, 10, 1, 1, 'event.opened', '{}')"},
			stmt: delivery, args: []any{"alert", 6, 10}},
		{name: "one outbox row per transition", wantDup: true,
			setup: []string{"INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (77, 's', '{}')"},
			stmt:  "INSERT INTO jetmon_outbox (transition_id, subject, payload) VALUES (77, 's', '{}')"},
		{name: "idempotency keys are case-sensitive",
			setup: []string{"INSERT INTO jetmon_idempotency_keys (api_key_id, idem_key, request_hash, expires_at) " +
				"VALUES (1, 'abc', REPEAT('0', 64), UTC_TIMESTAMP())"},
			stmt: "INSERT INTO jetmon_idempotency_keys (api_key_id, idem_key, request_hash, expires_at) " +
				"VALUES (1, 'ABC', REPEAT('0', 64), UTC_TIMESTAMP())"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range tt.setup {
				if _, err := db.ExecContext(t.Context(), s); err != nil {
					t.Fatalf("setup %q: %v", s, err)
				}
			}
			_, err := db.ExecContext(t.Context(), tt.stmt, tt.args...)
			switch {
			case tt.wantDup && !isDuplicate(err):
				t.Errorf("err = %v, want duplicate key", err)
			case tt.wantErr && err == nil:
				t.Error("statement succeeded, want an error")
			case !tt.wantDup && !tt.wantErr && err != nil:
				t.Errorf("statement failed: %v", err)
			}
		})
	}
}
