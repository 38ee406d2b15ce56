package api

import (
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Alert contact limits.
const (
	maxLabelLen       = 128
	defaultMaxPerHour = 60
	maxMaxPerHour     = 10000
	maxDestinationLen = 2048
)

// AlertContact is a registered alert contact; its destination is never
// returned.
type AlertContact struct {
	ID                 int64                 `json:"id"`
	Label              string                `json:"label"`
	Active             bool                  `json:"active"`
	Transport          uptime.AlertTransport `json:"transport"`
	DestinationPreview string                `json:"destination_preview" doc:"the destination's last 4 characters"`
	SiteFilter         SiteFilter            `json:"site_filter"`
	MinSeverity        SeverityName          `json:"min_severity"`
	MaxPerHour         int                   `json:"max_per_hour" doc:"0: unlimited"`
	CreatedBy          string                `json:"created_by"`
	CreatedAt          time.Time             `json:"created_at"`
	UpdatedAt          time.Time             `json:"updated_at"`
}

// CreateAlertContactRequest is the body of POST /alert-contacts.
type CreateAlertContactRequest struct {
	Label       string                `json:"label" doc:"1-128 characters"`
	Active      *bool                 `json:"active,omitempty" doc:"default true"`
	Transport   uptime.AlertTransport `json:"transport"`
	Destination map[string]string     `json:"destination" doc:"email {address}, pagerduty {integration_key}, slack and teams {webhook_url}"`
	SiteFilter  *SiteFilter           `json:"site_filter,omitempty"`
	MinSeverity *SeverityName         `json:"min_severity,omitempty" doc:"default Down"`
	MaxPerHour  *int                  `json:"max_per_hour,omitempty" doc:"0-10000, 0 unlimited (default 60)"`
}

// UpdateAlertContactRequest is the body of PATCH
// /alert-contacts/{alert_contact_id}; the transport cannot change (delete
// and recreate), null is invalid.
type UpdateAlertContactRequest struct {
	Label       Nullable[string]            `json:"label,omitempty"`
	Active      Nullable[bool]              `json:"active,omitempty"`
	Destination Nullable[map[string]string] `json:"destination,omitempty" doc:"checked against the contact's transport"`
	SiteFilter  Nullable[SiteFilter]        `json:"site_filter,omitempty"`
	MinSeverity Nullable[SeverityName]      `json:"min_severity,omitempty"`
	MaxPerHour  Nullable[int]               `json:"max_per_hour,omitempty"`
}

func contactOf(c uptime.AlertContact) AlertContact {
	return AlertContact{
		ID: c.ID, Label: c.Label, Active: c.Active, Transport: c.Transport, DestinationPreview: c.DestinationPreview,
		SiteFilter: SiteFilter{SiteIDs: nonNil(slices.Clone(c.SiteIDs))}, MinSeverity: SeverityName(uptime.SeverityName(c.MinSeverity)),
		MaxPerHour: c.MaxPerHour, CreatedBy: c.CreatedBy, CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
	}
}

func transportNames() []string {
	return []string{string(uptime.TransportEmail), string(uptime.TransportPagerDuty), string(uptime.TransportSlack), string(uptime.TransportTeams)}
}

func checkTransport(t uptime.AlertTransport) error {
	if !slices.Contains(transportNames(), string(t)) {
		return fieldErr(codeInvalidTransport, "transport", "must be one of %v", transportNames())
	}
	return nil
}

// checkDestination checks d's shape for transport: exactly its one key,
// and a value of the right form.
func checkDestination(t uptime.AlertTransport, d map[string]string) error {
	key := map[uptime.AlertTransport]string{uptime.TransportEmail: "address", uptime.TransportPagerDuty: "integration_key",
		uptime.TransportSlack: "webhook_url", uptime.TransportTeams: "webhook_url"}[t]
	for k := range d {
		if k != key {
			return fieldErr(codeInvalidAlertContact, "destination."+k, "unknown for transport %s (it takes {%q})", t, key)
		}
	}
	v, ok := d[key]
	field := "destination." + key
	switch {
	case !ok || strings.TrimSpace(v) == "":
		return fieldErr(codeInvalidAlertContact, field, "required for transport %s", t)
	case len(v) > maxDestinationLen:
		return fieldErr(codeInvalidAlertContact, field, "longer than %d bytes", maxDestinationLen)
	}
	switch t {
	case uptime.TransportEmail:
		if a, err := mail.ParseAddress(v); err != nil || a.Name != "" {
			return fieldErr(codeInvalidAlertContact, field, "must be an email address")
		}
	case uptime.TransportPagerDuty:
		if !alnum(v) {
			return fieldErr(codeInvalidAlertContact, field, "must be a PagerDuty Events v2 integration key (letters and digits)")
		}
	case uptime.TransportSlack, uptime.TransportTeams:
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Hostname() == "" {
			return fieldErr(codeInvalidAlertContact, field, "must be an https URL")
		}
	}
	return nil
}

func alnum(v string) bool {
	for _, r := range v {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func checkLabel(l string) error {
	if strings.TrimSpace(l) == "" || utf8.RuneCountInString(l) > maxLabelLen {
		return fieldErr(codeInvalidAlertContact, "label", "required, at most %d characters", maxLabelLen)
	}
	return nil
}

func checkMaxPerHour(n int) error {
	if n < 0 || n > maxMaxPerHour {
		return fieldErr(codeInvalidAlertContact, "max_per_hour", "must be between 0 (unlimited) and %d", maxMaxPerHour)
	}
	return nil
}

func parseSeverity(n SeverityName) (uptime.Severity, error) {
	sev, err := uptime.ParseSeverityName(string(n))
	if err != nil {
		return 0, fieldErr(codeInvalidSeverity, "min_severity", "must be one of Up, Warning, Degraded, SeemsDown, Down")
	}
	return sev, nil
}

// contactOfRequest validates a create request.
func contactOfRequest(in *CreateAlertContactRequest) (uptime.AlertContact, error) {
	c := uptime.AlertContact{Label: strings.TrimSpace(in.Label), Active: true, Transport: in.Transport,
		Destination: in.Destination, MinSeverity: uptime.SeverityDown, MaxPerHour: defaultMaxPerHour}
	if in.Active != nil {
		c.Active = *in.Active
	}
	if in.SiteFilter != nil {
		c.SiteIDs = in.SiteFilter.SiteIDs
	}
	if in.MaxPerHour != nil {
		c.MaxPerHour = *in.MaxPerHour
	}
	if err := firstErr(checkLabel(in.Label), checkTransport(in.Transport)); err != nil {
		return c, err
	}
	if in.MinSeverity != nil {
		sev, err := parseSeverity(*in.MinSeverity)
		if err != nil {
			return c, err
		}
		c.MinSeverity = sev
	}
	return c, firstErr(checkDestination(c.Transport, c.Destination),
		checkSiteIDs("site_filter.site_ids", c.SiteIDs, codeInvalidAlertContact), checkMaxPerHour(c.MaxPerHour))
}

// contactPatchOf validates a PATCH body against the contact's transport.
func contactPatchOf(in *UpdateAlertContactRequest, transport uptime.AlertTransport) (AlertContactPatch, error) {
	var p AlertContactPatch
	checks := []error{notNull("label", in.Label.Null), notNull("active", in.Active.Null),
		notNull("destination", in.Destination.Null), notNull("site_filter", in.SiteFilter.Null),
		notNull("min_severity", in.MinSeverity.Null), notNull("max_per_hour", in.MaxPerHour.Null)}
	if v := setValue(in.Label); v != nil {
		p.Label = ptr(strings.TrimSpace(*v))
		checks = append(checks, checkLabel(*v))
	}
	p.Active = setValue(in.Active)
	if v := setValue(in.Destination); v != nil {
		p.Destination = v
		checks = append(checks, checkDestination(transport, *v))
	}
	if v := setValue(in.SiteFilter); v != nil {
		p.SiteIDs = ptr(nonNil(v.SiteIDs))
		checks = append(checks, checkSiteIDs("site_filter.site_ids", v.SiteIDs, codeInvalidAlertContact))
	}
	if v := setValue(in.MinSeverity); v != nil {
		sev, err := parseSeverity(*v)
		p.MinSeverity = &sev
		checks = append(checks, err)
	}
	if v := setValue(in.MaxPerHour); v != nil {
		p.MaxPerHour = v
		checks = append(checks, checkMaxPerHour(*v))
	}
	return p, firstErr(checks...)
}
