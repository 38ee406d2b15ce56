package api

import (
	"encoding/base32"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Webhook limits.
const (
	secretPrefix     = "whsec_"
	secretBytes      = 32
	maxFilterSiteIDs = 1000
	maxGrace         = 7 * 24 * time.Hour
	defaultGrace     = 24 * time.Hour // receivers need time to deploy a rotated secret
)

// WebhookEventType is a webhook event type (X-Jetmon-Event).
type WebhookEventType string

// SeverityName is a severity by name: Up, Warning, Degraded, SeemsDown or
// Down.
type SeverityName string

// SiteFilter limits a webhook or alert contact to some sites (empty: all).
type SiteFilter struct {
	SiteIDs []int64 `json:"site_ids"`
}

// StateFilter limits a webhook to transitions into some states (empty: all).
type StateFilter struct {
	States []uptime.State `json:"states"`
}

// Webhook is a registered webhook; its secret is never returned after
// create and rotate.
type Webhook struct {
	ID                      int64              `json:"id"`
	URL                     string             `json:"url"`
	Active                  bool               `json:"active"`
	Events                  []WebhookEventType `json:"events" doc:"empty: every event type"`
	SiteFilter              SiteFilter         `json:"site_filter"`
	StateFilter             StateFilter        `json:"state_filter"`
	SecretPreview           string             `json:"secret_preview" doc:"the secret's last 4 characters"`
	PreviousSecretExpiresAt *time.Time         `json:"previous_secret_expires_at" doc:"until then deliveries are also signed with the rotated-out secret"`
	CreatedBy               string             `json:"created_by"`
	CreatedAt               time.Time          `json:"created_at"`
	UpdatedAt               time.Time          `json:"updated_at"`
}

// WebhookWithSecret is create's and rotate-secret's answer: the only time
// the secret is shown.
type WebhookWithSecret struct {
	Webhook
	Secret string `json:"secret" doc:"whsec_...; store it now, it is never shown again"`
}

// CreateWebhookRequest is the body of POST /webhooks.
type CreateWebhookRequest struct {
	URL         string             `json:"url" doc:"http(s) URL with a host"`
	Active      *bool              `json:"active,omitempty" doc:"default true"`
	Events      []WebhookEventType `json:"events,omitempty" doc:"default: every event type"`
	SiteFilter  *SiteFilter        `json:"site_filter,omitempty"`
	StateFilter *StateFilter       `json:"state_filter,omitempty"`
}

// UpdateWebhookRequest is the body of PATCH /webhooks/{webhook_id}: an
// absent field is unchanged, an empty list resets a filter to match-all,
// null is invalid.
type UpdateWebhookRequest struct {
	URL         Nullable[string]             `json:"url,omitempty"`
	Active      Nullable[bool]               `json:"active,omitempty"`
	Events      Nullable[[]WebhookEventType] `json:"events,omitempty"`
	SiteFilter  Nullable[SiteFilter]         `json:"site_filter,omitempty"`
	StateFilter Nullable[StateFilter]        `json:"state_filter,omitempty"`
}

// webhookOf is w on the wire; the previous secret shows while it is valid.
func webhookOf(w uptime.Webhook, now time.Time) Webhook {
	out := Webhook{
		ID: w.ID, URL: w.URL, Active: w.Active, Events: make([]WebhookEventType, 0, len(w.Events)),
		SiteFilter: SiteFilter{SiteIDs: nonNil(slices.Clone(w.SiteIDs))}, StateFilter: StateFilter{States: nonNil(slices.Clone(w.States))},
		SecretPreview: w.SecretPreview, CreatedBy: w.CreatedBy, CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt),
	}
	for _, e := range w.Events {
		out.Events = append(out.Events, WebhookEventType(e))
	}
	if w.PreviousSecretExpiresAt.After(now) {
		out.PreviousSecretExpiresAt = timePtr(w.PreviousSecretExpiresAt)
	}
	return out
}

func withSecret(w uptime.Webhook, secret string, now time.Time) WebhookWithSecret {
	out := WebhookWithSecret{Webhook: webhookOf(w, now), Secret: secret}
	if out.SecretPreview == "" {
		out.SecretPreview = secret[len(secret)-4:]
	}
	return out
}

// newSecret is "whsec_" and the unpadded base32 of 32 random bytes.
func newSecret(random io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return secretPrefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

func checkEventTypes(events []WebhookEventType) ([]string, error) {
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !slices.Contains(uptime.WebhookEventTypes(), string(e)) {
			return nil, fieldErr(codeInvalidEventType, "events", "unknown event type %q (one of %v)", e, uptime.WebhookEventTypes())
		}
		if !slices.Contains(out, string(e)) {
			out = append(out, string(e))
		}
	}
	return out, nil
}

func checkSiteIDs(field string, ids []int64, code ErrorCode) error {
	if len(ids) > maxFilterSiteIDs {
		return fieldErr(code, field, "at most %d site ids", maxFilterSiteIDs)
	}
	for _, id := range ids {
		if id < 1 {
			return fieldErr(code, field, "site ids are positive integers")
		}
	}
	return nil
}

func checkStates(states []uptime.State) error {
	for _, st := range states {
		if !slices.Contains(stateNames(), string(st)) {
			return fieldErr(codeInvalidField, "state_filter.states", "unknown state %q", st)
		}
	}
	return nil
}

// webhookOfRequest validates a create request.
func webhookOfRequest(in *CreateWebhookRequest) (uptime.Webhook, error) {
	w := uptime.Webhook{URL: in.URL, Active: true}
	if in.Active != nil {
		w.Active = *in.Active
	}
	if in.SiteFilter != nil {
		w.SiteIDs = in.SiteFilter.SiteIDs
	}
	if in.StateFilter != nil {
		w.States = in.StateFilter.States
	}
	events, err := checkEventTypes(in.Events)
	w.Events = events
	return w, firstErr(checkURL("url", in.URL), err,
		checkSiteIDs("site_filter.site_ids", w.SiteIDs, codeInvalidField), checkStates(w.States))
}

// webhookPatchOf validates a PATCH body.
func webhookPatchOf(in *UpdateWebhookRequest) (WebhookPatch, error) {
	var p WebhookPatch
	checks := []error{notNull("url", in.URL.Null), notNull("active", in.Active.Null), notNull("events", in.Events.Null),
		notNull("site_filter", in.SiteFilter.Null), notNull("state_filter", in.StateFilter.Null)}
	if v := setValue(in.URL); v != nil {
		p.URL = v
		checks = append(checks, checkURL("url", *v))
	}
	p.Active = setValue(in.Active)
	if v := setValue(in.Events); v != nil {
		events, err := checkEventTypes(*v)
		p.Events = &events
		checks = append(checks, err)
	}
	if v := setValue(in.SiteFilter); v != nil {
		p.SiteIDs = ptr(nonNil(v.SiteIDs))
		checks = append(checks, checkSiteIDs("site_filter.site_ids", v.SiteIDs, codeInvalidField))
	}
	if v := setValue(in.StateFilter); v != nil {
		p.States = ptr(nonNil(v.States))
		checks = append(checks, checkStates(v.States))
	}
	return p, firstErr(checks...)
}
