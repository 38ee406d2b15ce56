package api

import (
	"net/http"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func graceParams() []param {
	return []param{{name: "grace", kind: kindString,
		doc: "how long the old secret keeps signing deliveries beside the new one, a Go duration up to 168h (default 24h; 0: invalid at once)"}}
}

func webhookID(w uptime.Webhook) int64 { return w.ID }

// listWebhooks is GET /webhooks.
func (s *Server) listWebhooks(r *http.Request, _ *NoBody) (List[Webhook], error) {
	p, err := s.page(r, "webhooks", s.opts.Limits.DefaultPageSize)
	if err != nil {
		return List[Webhook]{}, err
	}
	rows, err := s.opts.Webhooks.ListWebhooks(r.Context(), callOf(r).tenant)
	if err != nil {
		return List[Webhook]{}, storeErr(err, "")
	}
	now := s.now()
	return pageOf(rows, p, "webhooks", webhookID, func(w uptime.Webhook) Webhook { return webhookOf(w, now) }), nil
}

// visibleWebhook reads the path's webhook as the caller's tenant sees it.
func (s *Server) visibleWebhook(r *http.Request) (uptime.Webhook, error) {
	return visible(r, "webhook_id", codeWebhookNotFound, s.opts.Webhooks.GetWebhook)
}

// getWebhook is GET /webhooks/{webhook_id}.
func (s *Server) getWebhook(r *http.Request, _ *NoBody) (Webhook, error) {
	w, err := s.visibleWebhook(r)
	if err != nil {
		return Webhook{}, err
	}
	return webhookOf(w, s.now()), nil
}

// createWebhook is POST /webhooks: the secret is generated here and shown
// once.
func (s *Server) createWebhook(r *http.Request, in *CreateWebhookRequest) (WebhookWithSecret, error) {
	w, err := webhookOfRequest(in)
	if err != nil {
		return WebhookWithSecret{}, err
	}
	c := callOf(r)
	if w.Secret, err = newSecret(s.opts.Random); err != nil {
		return WebhookWithSecret{}, err
	}
	w.SecretPreview, w.OwnerTenantID, w.CreatedBy = w.Secret[len(w.Secret)-4:], string(c.tenant), c.key.Consumer
	created, err := s.opts.Webhooks.CreateWebhook(r.Context(), w, c.tenant)
	if err != nil {
		return WebhookWithSecret{}, storeErr(err, "")
	}
	return withSecret(created, w.Secret, s.now()), nil
}

// updateWebhook is PATCH /webhooks/{webhook_id}.
func (s *Server) updateWebhook(r *http.Request, in *UpdateWebhookRequest) (Webhook, error) {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return Webhook{}, err
	}
	p, err := webhookPatchOf(in)
	if err != nil {
		return Webhook{}, err
	}
	w, err := s.opts.Webhooks.UpdateWebhook(r.Context(), id, p, callOf(r).tenant)
	if err != nil {
		return Webhook{}, storeErr(err, codeWebhookNotFound)
	}
	return webhookOf(w, s.now()), nil
}

// deleteWebhook is DELETE /webhooks/{webhook_id}: a hard delete; its
// delivery rows stay.
func (s *Server) deleteWebhook(r *http.Request, _ *NoBody) (NoContent, error) {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return NoContent{}, err
	}
	if err := s.opts.Webhooks.DeleteWebhook(r.Context(), id, callOf(r).tenant); err != nil {
		return NoContent{}, storeErr(err, codeWebhookNotFound)
	}
	return NoContent{}, nil
}

// rotateWebhookSecret is POST /webhooks/{webhook_id}/rotate-secret. With
// the old secret keeps signing (a second v1= signature) until the grace
// ends: 24 h by default, so receivers can deploy the new secret; ?grace=0
// invalidates it at once.
func (s *Server) rotateWebhookSecret(r *http.Request, _ *NoBody) (WebhookWithSecret, error) {
	id, err := pathID(r, "webhook_id")
	if err != nil {
		return WebhookWithSecret{}, err
	}
	grace := defaultGrace
	if v := r.URL.Query().Get("grace"); v != "" {
		if grace, err = time.ParseDuration(v); err != nil || grace < 0 || grace > maxGrace {
			return WebhookWithSecret{}, fieldErr(codeInvalidGrace, "grace", "must be a duration from 0 to 168h, got %q", v)
		}
	}
	secret, err := newSecret(s.opts.Random)
	if err != nil {
		return WebhookWithSecret{}, err
	}
	w, err := s.opts.Webhooks.RotateSecret(r.Context(), id, secret, grace, callOf(r).tenant)
	if err != nil {
		return WebhookWithSecret{}, storeErr(err, codeWebhookNotFound)
	}
	return withSecret(w, secret, s.now()), nil
}
