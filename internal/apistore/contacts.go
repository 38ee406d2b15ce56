package apistore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// maxLabelLen is jetmon_alert_contacts.label's length.
const maxLabelLen = 128

// contactColumns are the jetmon_alert_contacts columns scanContact reads:
// never destination.
const contactColumns = `id, label, active, owner_tenant_id, transport, destination_preview, site_filter,
       min_severity, max_per_hour, created_by, created_at, updated_at`

// destinationKey is the destination field that says where a transport
// sends (its preview is the last characters of that value).
func destinationKey(t uptime.AlertTransport) (string, bool) {
	switch t {
	case uptime.TransportEmail:
		return "address", true
	case uptime.TransportPagerDuty:
		return "integration_key", true
	case uptime.TransportSlack, uptime.TransportTeams:
		return "webhook_url", true
	default:
		return "", false
	}
}

// destinationPreview is the last characters of the destination's value.
func destinationPreview(t uptime.AlertTransport, dest map[string]string) string {
	key, _ := destinationKey(t)
	return lastChars(dest[key], previewLen)
}

// scanContact reads one contactColumns row.
func (s *Store) scanContact(r rowScanner) (uptime.AlertContact, error) {
	var (
		c         uptime.AlertContact
		active    int64
		owner     sql.NullString
		transport string
		sites     []byte
		severity  uint8
	)
	if err := r.Scan(&c.ID, &c.Label, &active, &owner, &transport, &c.DestinationPreview, &sites, &severity,
		&c.MaxPerHour, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return uptime.AlertContact{}, err
	}
	c.Active, c.OwnerTenantID, c.Transport = active == 1, owner.String, uptime.AlertTransport(transport)
	c.MinSeverity, c.CreatedAt, c.UpdatedAt = uptime.Severity(severity), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	var ok bool
	if c.SiteIDs, ok = decodeSiteFilter(sites); !ok {
		s.warnColumn("jetmon_alert_contacts", "site_filter", c.ID)
	}
	return c, nil
}

// contacts is jetmon_alert_contacts for the shared reads and writes.
func (s *Store) contacts() destTable[uptime.AlertContact] {
	return destTable[uptime.AlertContact]{name: "jetmon_alert_contacts", noun: "alert contact", columns: contactColumns,
		scan: s.scanContact}
}

// ListAlertContacts returns the contacts the tenant owns (every contact for
// an unscoped caller) in id order, without destinations.
func (s *Store) ListAlertContacts(ctx context.Context, t api.Tenant) ([]uptime.AlertContact, error) {
	out, err := s.contacts().list(ctx, s.db, t)
	if err != nil {
		return nil, fmt.Errorf("list alert contacts: %w", err)
	}
	return out, nil
}

// GetAlertContact returns contact id without its destination, or
// api.ErrNotFound when it does not exist or the tenant does not own it.
func (s *Store) GetAlertContact(ctx context.Context, id int64, t api.Tenant) (uptime.AlertContact, error) {
	c, err := s.contacts().get(ctx, s.db, id, t, false)
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("get alert contact %d: %w", id, err)
	}
	return c, nil
}

// CreateAlertContact inserts c owned by the tenant (none when unscoped) and
// returns it without its destination. MinSeverity and MaxPerHour are stored
// as given (the API applies the defaults).
func (s *Store) CreateAlertContact(ctx context.Context, c uptime.AlertContact, t api.Tenant) (uptime.AlertContact, error) {
	if err := checkContact(c, t); err != nil {
		return uptime.AlertContact{}, fmt.Errorf("create alert contact: %w", err)
	}
	dest, err := jsonOrNull(c.Destination, false)
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("create alert contact: %w", err)
	}
	sites, err := siteFilterColumn(c.SiteIDs)
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("create alert contact: %w", err)
	}
	out, err := s.contacts().insert(ctx, s.db, `INSERT INTO jetmon_alert_contacts (label, active, owner_tenant_id,
		transport, destination, destination_preview, site_filter, min_severity, max_per_hour, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Label, c.Active, nullString(string(t)), string(c.Transport), dest,
		destinationPreview(c.Transport, c.Destination), sites, uint8(c.MinSeverity), c.MaxPerHour, c.CreatedBy)
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("create alert contact: %w", err)
	}
	return out, nil
}

// checkContact checks what the columns need.
func checkContact(c uptime.AlertContact, t api.Tenant) error {
	if _, ok := destinationKey(c.Transport); !ok {
		return fmt.Errorf("transport %q: must be email, pagerduty, slack or teams", c.Transport)
	}
	switch {
	case strings.TrimSpace(c.Label) == "" || len([]rune(c.Label)) > maxLabelLen:
		return fmt.Errorf("label: 1 to %d characters", maxLabelLen)
	case len(c.Destination) == 0:
		return errors.New("destination is required")
	case c.MaxPerHour < 0:
		return fmt.Errorf("max_per_hour %d: must be >= 0", c.MaxPerHour)
	case len(c.CreatedBy) > maxCreatorLen:
		return fmt.Errorf("created_by: at most %d bytes", maxCreatorLen)
	case len(t) > maxTenantIDLen:
		return fmt.Errorf("tenant id: at most %d bytes", maxTenantIDLen)
	}
	return nil
}

// UpdateAlertContact applies p to contact id (a new destination gets a new
// preview; the transport never changes). api.ErrNotFound when it does not
// exist or the tenant does not own it.
func (s *Store) UpdateAlertContact(ctx context.Context, id int64, p api.AlertContactPatch, t api.Tenant) (uptime.AlertContact, error) {
	out, err := s.contacts().update(ctx, s.db, id, t, func(cur uptime.AlertContact) (setList, error) {
		return contactPatchSet(p, cur.Transport)
	})
	if err != nil {
		return uptime.AlertContact{}, fmt.Errorf("update alert contact %d: %w", id, err)
	}
	return out, nil
}

// contactPatchSet turns p into SET assignments.
func contactPatchSet(p api.AlertContactPatch, transport uptime.AlertTransport) (setList, error) {
	var l setList
	if p.Label != nil {
		if strings.TrimSpace(*p.Label) == "" || len([]rune(*p.Label)) > maxLabelLen {
			return setList{}, fmt.Errorf("label: 1 to %d characters", maxLabelLen)
		}
		l.add("label", *p.Label)
	}
	if p.Active != nil {
		l.add("active", *p.Active)
	}
	if p.Destination != nil {
		if len(*p.Destination) == 0 {
			return setList{}, errors.New("destination must not be empty")
		}
		dest, err := jsonOrNull(*p.Destination, false)
		if err != nil {
			return setList{}, err
		}
		l.add("destination", dest)
		l.add("destination_preview", destinationPreview(transport, *p.Destination))
	}
	if p.SiteIDs != nil {
		sites, err := siteFilterColumn(*p.SiteIDs)
		if err != nil {
			return setList{}, err
		}
		l.add("site_filter", sites)
	}
	if p.MinSeverity != nil {
		l.add("min_severity", uint8(*p.MinSeverity))
	}
	if p.MaxPerHour != nil {
		if *p.MaxPerHour < 0 {
			return setList{}, fmt.Errorf("max_per_hour %d: must be >= 0", *p.MaxPerHour)
		}
		l.add("max_per_hour", *p.MaxPerHour)
	}
	return l, nil
}

// DeleteAlertContact deletes contact id (its deliveries stay, for the
// record). api.ErrNotFound when it does not exist or the tenant does not
// own it.
func (s *Store) DeleteAlertContact(ctx context.Context, id int64, t api.Tenant) error {
	return s.contacts().delete(ctx, s.db, id, t)
}
