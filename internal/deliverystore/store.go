package deliverystore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Opts configures a Store.
type Opts struct {
	// Logger receives a warning per destination row whose JSON columns do
	// not decode (the row is skipped). Nil discards.
	Logger *slog.Logger
}

// Store is the deliverers' MySQL store. It is safe for concurrent use.
type Store struct {
	db  *sql.DB
	log *slog.Logger
}

// New returns a Store on db (a pool from sqlstore.Open with the schema
// applied); it does no I/O.
func New(db *sql.DB, o Opts) (*Store, error) {
	if db == nil {
		return nil, errors.New("delivery store: db is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{db: db, log: o.Logger.With("component", "deliverystore")}, nil
}

// webhookColumns are the jetmon_webhooks columns scanWebhook reads,
// secrets included: the deliverers sign with them.
const webhookColumns = `id, url, active, COALESCE(owner_tenant_id, ''), events, site_filter, state_filter,
	secret, secret_preview, COALESCE(previous_secret, ''), previous_secret_expires_at, created_by, created_at, updated_at`

// contactColumns are the jetmon_alert_contacts columns scanContact reads,
// the destination included.
const contactColumns = `id, label, active, COALESCE(owner_tenant_id, ''), transport, destination, destination_preview,
	site_filter, min_severity, max_per_hour, created_by, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

// scanWebhook reads one webhook; ok is false when a JSON column does not
// decode.
func scanWebhook(sc scanner) (w uptime.Webhook, ok bool, err error) {
	var (
		events, sites, states []byte
		prevExpires           sql.NullTime
	)
	err = sc.Scan(&w.ID, &w.URL, &w.Active, &w.OwnerTenantID, &events, &sites, &states, &w.Secret, &w.SecretPreview,
		&w.PreviousSecret, &prevExpires, &w.CreatedBy, &w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return uptime.Webhook{}, false, err
	}
	w.PreviousSecretExpiresAt = prevExpires.Time
	var sf siteFilter
	var stf stateFilter
	ok = decodeJSON(events, &w.Events) && decodeJSON(sites, &sf) && decodeJSON(states, &stf)
	w.SiteIDs, w.States = sf.SiteIDs, stf.States
	return w, ok, nil
}

// scanContact reads one alert contact; ok is false when a JSON column does
// not decode.
func scanContact(sc scanner) (c uptime.AlertContact, ok bool, err error) {
	var (
		dest, sites []byte
		transport   string
		minSeverity uint8
	)
	err = sc.Scan(&c.ID, &c.Label, &c.Active, &c.OwnerTenantID, &transport, &dest, &c.DestinationPreview, &sites,
		&minSeverity, &c.MaxPerHour, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return uptime.AlertContact{}, false, err
	}
	c.Transport, c.MinSeverity = uptime.AlertTransport(transport), uptime.Severity(minSeverity)
	var sf siteFilter
	ok = decodeJSON(dest, &c.Destination) && decodeJSON(sites, &sf)
	c.SiteIDs = sf.SiteIDs
	return c, ok, nil
}

// siteFilter is a site_filter column: {"site_ids": [...]}.
type siteFilter struct {
	SiteIDs []int64 `json:"site_ids"`
}

// stateFilter is jetmon_webhooks.state_filter: {"states": [...]}.
type stateFilter struct {
	States []uptime.State `json:"states"`
}

// decodeJSON decodes a nullable JSON column into v (NULL and JSON null
// leave it empty); false when it holds another shape.
func decodeJSON(b []byte, v any) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return true
	}
	return json.Unmarshal(b, v) == nil
}

// ActiveWebhooks returns every active webhook with its secrets, in id
// order. A row whose filters do not decode is skipped with a warning: it
// matches nothing rather than everything.
func (s *Store) ActiveWebhooks(ctx context.Context) ([]uptime.Webhook, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+webhookColumns+` FROM jetmon_webhooks WHERE active = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("active webhooks: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.Webhook
	for rows.Next() {
		w, ok, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("active webhooks: %w", err)
		}
		if !ok {
			s.log.Warn("webhook skipped: its filters do not decode", "webhook_id", w.ID)
			continue
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active webhooks: %w", err)
	}
	return out, nil
}

// ActiveAlertContacts returns every active alert contact with its
// destination, in id order; a row whose JSON does not decode is skipped
// with a warning.
func (s *Store) ActiveAlertContacts(ctx context.Context) ([]uptime.AlertContact, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+contactColumns+` FROM jetmon_alert_contacts WHERE active = 1 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("active alert contacts: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []uptime.AlertContact
	for rows.Next() {
		c, ok, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("active alert contacts: %w", err)
		}
		if !ok {
			s.log.Warn("alert contact skipped: its destination or filter does not decode", "contact_id", c.ID)
			continue
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active alert contacts: %w", err)
	}
	return out, nil
}

// SiteTenants returns the tenants blogID belongs to, in order.
func (s *Store) SiteTenants(ctx context.Context, blogID int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT tenant_id FROM jetmon_site_tenants WHERE blog_id = ? ORDER BY tenant_id`, blogID)
	if err != nil {
		return nil, fmt.Errorf("tenants of site %d: %w", blogID, err)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("tenants of site %d: %w", blogID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenants of site %d: %w", blogID, err)
	}
	return out, nil
}

// Webhook returns webhook id with its secrets, active or not, or
// ErrNotFound. Filters that do not decode are left empty (dispatch does
// not use them).
func (s *Store) Webhook(ctx context.Context, id int64) (uptime.Webhook, error) {
	w, _, err := scanWebhook(s.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM jetmon_webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.Webhook{}, fmt.Errorf("webhook %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("webhook %d: %w", id, err)
	}
	return w, nil
}

// AlertContact returns contact id with its destination, active or not, or
// ErrNotFound.
func (s *Store) AlertContact(ctx context.Context, id int64) (uptime.AlertContact, error) {
	c, ok, err := scanContact(s.db.QueryRowContext(ctx,
		`SELECT `+contactColumns+` FROM jetmon_alert_contacts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return uptime.AlertContact{}, fmt.Errorf("alert contact %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("alert contact %d: %w", id, err)
	}
	if !ok {
		c.Destination = nil // the transport reports a missing destination as permanent
	}
	return c, nil
}

// nullTime is t for a DATETIME column, NULL when zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// nullString is s, NULL when empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullInt is n, NULL when zero.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
