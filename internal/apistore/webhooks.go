package apistore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Limits of jetmon_webhooks columns.
const (
	maxSecretLen   = 80 // secret, previous_secret
	previewLen     = 4  // secret_preview, destination_preview
	maxURLLen      = 2083
	maxCreatorLen  = 128
	maxTenantIDLen = 128
)

// webhookColumns are the jetmon_webhooks columns scanWebhook reads: never
// secret or previous_secret.
const webhookColumns = `id, url, active, owner_tenant_id, events, site_filter, state_filter, secret_preview,
       previous_secret_expires_at, created_by, created_at, updated_at`

// scanWebhook reads one webhookColumns row.
func (s *Store) scanWebhook(r rowScanner) (uptime.Webhook, error) {
	var (
		w                     uptime.Webhook
		active                int64
		owner                 sql.NullString
		events, sites, states []byte
		prevExpires           sql.NullTime
	)
	if err := r.Scan(&w.ID, &w.URL, &active, &owner, &events, &sites, &states, &w.SecretPreview, &prevExpires,
		&w.CreatedBy, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return uptime.Webhook{}, err
	}
	w.Active, w.OwnerTenantID, w.PreviousSecretExpiresAt = active == 1, owner.String, timeOf(prevExpires)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	var ok bool
	if w.Events, ok = decodeStrings(events); !ok {
		s.warnColumn("jetmon_webhooks", "events", w.ID)
	}
	if w.SiteIDs, ok = decodeSiteFilter(sites); !ok {
		s.warnColumn("jetmon_webhooks", "site_filter", w.ID)
	}
	if w.States, ok = decodeStateFilter(states); !ok {
		s.warnColumn("jetmon_webhooks", "state_filter", w.ID)
	}
	return w, nil
}

// webhooks is jetmon_webhooks for the shared reads and writes.
func (s *Store) webhooks() destTable[uptime.Webhook] {
	return destTable[uptime.Webhook]{name: "jetmon_webhooks", noun: "webhook", columns: webhookColumns, scan: s.scanWebhook}
}

// ListWebhooks returns the webhooks the tenant owns (every webhook for an
// unscoped caller) in id order, without secrets.
func (s *Store) ListWebhooks(ctx context.Context, t api.Tenant) ([]uptime.Webhook, error) {
	out, err := s.webhooks().list(ctx, s.db, t)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// GetWebhook returns webhook id without its secret, or api.ErrNotFound when
// it does not exist or the tenant does not own it.
func (s *Store) GetWebhook(ctx context.Context, id int64, t api.Tenant) (uptime.Webhook, error) {
	w, err := s.webhooks().get(ctx, s.db, id, t, false)
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return w, nil
}

// CreateWebhook inserts w with its secret (the API generates it) owned by
// the tenant (none when unscoped), and returns it with the secret: the only
// read of the secret besides RotateSecret.
func (s *Store) CreateWebhook(ctx context.Context, w uptime.Webhook, t api.Tenant) (uptime.Webhook, error) {
	if err := checkSecret(w.Secret); err != nil {
		return uptime.Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	cols, err := webhookFilterArgs(w.Events, w.SiteIDs, w.States)
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	if err := checkWebhookText(w.URL, w.CreatedBy, t); err != nil {
		return uptime.Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	out, err := s.webhooks().insert(ctx, s.db, `INSERT INTO jetmon_webhooks (url, active, owner_tenant_id, events,
		site_filter, state_filter, secret, secret_preview, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.URL, w.Active, nullString(string(t)), cols[0], cols[1], cols[2], w.Secret, lastChars(w.Secret, previewLen),
		w.CreatedBy)
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("create webhook: %w", err)
	}
	out.Secret = w.Secret
	return out, nil
}

// checkSecret requires 1 to maxSecretLen printable ASCII characters.
func checkSecret(secret string) error {
	if secret == "" || len(secret) > maxSecretLen ||
		strings.ContainsFunc(secret, func(r rune) bool { return r < '!' || r > '~' }) {
		return fmt.Errorf("secret: 1 to %d printable ASCII characters", maxSecretLen)
	}
	return nil
}

// checkWebhookText checks the text columns' limits.
func checkWebhookText(url, createdBy string, t api.Tenant) error {
	switch {
	case url == "" || len(url) > maxURLLen:
		return fmt.Errorf("url: 1 to %d bytes", maxURLLen)
	case len(createdBy) > maxCreatorLen:
		return fmt.Errorf("created_by: at most %d bytes", maxCreatorLen)
	case len(t) > maxTenantIDLen:
		return fmt.Errorf("tenant id: at most %d bytes", maxTenantIDLen)
	}
	return nil
}

// webhookFilterArgs encodes the three allow-lists (NULL when empty).
func webhookFilterArgs(events []string, siteIDs []int64, states []uptime.State) ([3]any, error) {
	var out [3]any
	var err error
	if out[0], err = stringsColumn(events); err != nil {
		return out, err
	}
	if out[1], err = siteFilterColumn(siteIDs); err != nil {
		return out, err
	}
	out[2], err = stateFilterColumn(states)
	return out, err
}

// UpdateWebhook applies p to webhook id; an empty list resets a filter to
// match-all. api.ErrNotFound when it does not exist or the tenant does not
// own it.
func (s *Store) UpdateWebhook(ctx context.Context, id int64, p api.WebhookPatch, t api.Tenant) (uptime.Webhook, error) {
	set, err := webhookPatchSet(p)
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("update webhook %d: %w", id, err)
	}
	out, err := s.webhooks().update(ctx, s.db, id, t, func(uptime.Webhook) (setList, error) { return set, nil })
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("update webhook %d: %w", id, err)
	}
	return out, nil
}

// webhookPatchSet turns p into SET assignments.
func webhookPatchSet(p api.WebhookPatch) (setList, error) {
	var l setList
	if p.URL != nil {
		if err := checkWebhookText(*p.URL, "", ""); err != nil {
			return setList{}, err
		}
		l.add("url", *p.URL)
	}
	if p.Active != nil {
		l.add("active", *p.Active)
	}
	var events []string
	var sites []int64
	var states []uptime.State
	if p.Events != nil {
		events = *p.Events
	}
	if p.SiteIDs != nil {
		sites = *p.SiteIDs
	}
	if p.States != nil {
		states = *p.States
	}
	cols, err := webhookFilterArgs(events, sites, states)
	if err != nil {
		return setList{}, err
	}
	for i, present := range []bool{p.Events != nil, p.SiteIDs != nil, p.States != nil} {
		if present {
			l.add([]string{"events", "site_filter", "state_filter"}[i], cols[i])
		}
	}
	return l, nil
}

// DeleteWebhook deletes webhook id (its deliveries stay, for the record).
// api.ErrNotFound when it does not exist or the tenant does not own it.
func (s *Store) DeleteWebhook(ctx context.Context, id int64, t api.Tenant) error {
	return s.webhooks().delete(ctx, s.db, id, t)
}

// RotateSecret replaces webhook id's secret by secret and returns the
// webhook with it. With grace > 0 the old secret
// stays valid (deliveries are signed with both) until now+grace; with 0 it
// is invalid at once.
func (s *Store) RotateSecret(ctx context.Context, id int64, secret string, grace time.Duration, t api.Tenant) (uptime.Webhook, error) {
	if grace < 0 {
		return uptime.Webhook{}, fmt.Errorf("rotate webhook %d secret: grace %v must be >= 0", id, grace)
	}
	if err := checkSecret(secret); err != nil {
		return uptime.Webhook{}, fmt.Errorf("rotate webhook %d secret: %w", id, err)
	}
	var out uptime.Webhook
	err := sqlstore.WithTx(ctx, s.db, func(tx *sql.Tx) error {
		if _, err := s.webhooks().get(ctx, tx, id, t, true); err != nil {
			return err
		}
		var prev, prevExpires any
		if grace > 0 {
			var old string
			if err := tx.QueryRowContext(ctx, `SELECT secret FROM jetmon_webhooks WHERE id = ?`, id).Scan(&old); err != nil {
				return fmt.Errorf("read secret: %w", err)
			}
			prev, prevExpires = old, s.clock().Add(grace)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jetmon_webhooks SET secret = ?, secret_preview = ?, previous_secret = ?,
			previous_secret_expires_at = ? WHERE id = ?`, secret, lastChars(secret, previewLen), prev, prevExpires, id); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		var err error
		out, err = s.webhooks().get(ctx, tx, id, "", false)
		return err
	})
	if err != nil {
		return uptime.Webhook{}, fmt.Errorf("rotate webhook %d secret: %w", id, err)
	}
	out.Secret = secret
	return out, nil
}
