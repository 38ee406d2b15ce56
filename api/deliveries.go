package api

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

func (s *Server) deliveryListParams() []param {
	return append(s.pageParams(s.opts.Limits.DefaultPageSize), param{name: "status", kind: kindString, doc: "only deliveries with this status",
		enum: deliveryStatuses()})
}

func deliveryStatuses() []string {
	return []string{string(uptime.DeliveryPending), string(uptime.DeliveryDelivered), string(uptime.DeliveryFailed),
		string(uptime.DeliveryAbandoned)}
}

// DeliveryFields are a delivery's own fields.
type DeliveryFields struct {
	ID             int64                 `json:"id"`
	TransitionID   int64                 `json:"transition_id"`
	EventID        int64                 `json:"event_id"`
	SiteID         int64                 `json:"site_id"`
	EventType      string                `json:"event_type"`
	Status         uptime.DeliveryStatus `json:"status"`
	Attempt        int                   `json:"attempt" doc:"attempts made under the current retry budget"`
	NextAttemptAt  *time.Time            `json:"next_attempt_at"`
	LastStatusCode *int                  `json:"last_status_code" doc:"null for a transport error or before the first attempt"`
	LastResponse   *string               `json:"last_response"`
	LastAttemptAt  *time.Time            `json:"last_attempt_at"`
	DeliveredAt    *time.Time            `json:"delivered_at"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
}

// WebhookDelivery is one delivery to a webhook.
type WebhookDelivery struct {
	DeliveryFields
	WebhookID int64 `json:"webhook_id"`
}

// AlertDelivery is one delivery to an alert contact.
type AlertDelivery struct {
	DeliveryFields
	AlertContactID int64         `json:"alert_contact_id"`
	Severity       *SeverityName `json:"severity"`
}

// DeliveryAttempt is one attempt of a delivery.
type DeliveryAttempt struct {
	Attempt       int        `json:"attempt"`
	NodeID        string     `json:"node_id"`
	Outcome       string     `json:"outcome" doc:"delivered, retry, abandoned, rate_limited, deferred or sending"`
	StatusCode    *int       `json:"status_code"`
	Response      *string    `json:"response"`
	Error         *string    `json:"error" doc:"URLs redacted"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
}

// RetriedWebhookDelivery is a webhook delivery re-enqueued, with the
// attempts it keeps.
type RetriedWebhookDelivery struct {
	WebhookDelivery
	Attempts []DeliveryAttempt `json:"attempts"`
}

// RetriedAlertDelivery is an alert delivery re-enqueued, with the attempts
// it keeps.
type RetriedAlertDelivery struct {
	AlertDelivery
	Attempts []DeliveryAttempt `json:"attempts"`
}

func deliveryFieldsOf(d uptime.Delivery) DeliveryFields {
	out := DeliveryFields{
		ID: d.ID, TransitionID: d.TransitionID, EventID: d.EventID, SiteID: d.BlogID, EventType: d.EventType,
		Status: d.Status, Attempt: d.Attempt, NextAttemptAt: timePtr(d.NextAttemptAt), LastAttemptAt: timePtr(d.LastAttemptAt),
		DeliveredAt: timePtr(d.DeliveredAt), CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
	}
	if !d.LastAttemptAt.IsZero() {
		out.LastResponse = ptr(d.LastResponse)
		if d.LastStatusCode != 0 {
			out.LastStatusCode = ptr(d.LastStatusCode)
		}
	}
	return out
}

func webhookDeliveryOf(d uptime.Delivery) WebhookDelivery {
	return WebhookDelivery{DeliveryFields: deliveryFieldsOf(d), WebhookID: d.DestinationID}
}

func alertDeliveryOf(d uptime.Delivery) AlertDelivery {
	out := AlertDelivery{DeliveryFields: deliveryFieldsOf(d), AlertContactID: d.DestinationID}
	if d.Severity != nil {
		out.Severity = ptr(SeverityName(uptime.SeverityName(*d.Severity)))
	}
	return out
}

func attemptOf(a uptime.DeliveryAttempt) DeliveryAttempt {
	out := DeliveryAttempt{Attempt: a.Attempt, NodeID: a.NodeID, Outcome: a.Outcome,
		NextAttemptAt: timePtr(a.NextAttemptAt), StartedAt: utc(a.StartedAt), FinishedAt: timePtr(a.FinishedAt)}
	if a.StatusCode != 0 {
		out.StatusCode = ptr(a.StatusCode)
	}
	if a.Response != "" {
		out.Response = ptr(a.Response)
	}
	if a.Error != "" {
		out.Error = ptr(redactURLs(a.Error))
	}
	return out
}

// A URL in an error may be a credential (a Slack or Teams webhook URL).
var urlPattern = regexp.MustCompile(`(?i)\b(https?)://([^/\s"'?#]+)[^\s"']*`)

// redactURLs keeps only the scheme and host of every URL in s.
func redactURLs(s string) string { return urlPattern.ReplaceAllString(s, "$1://$2/…") }

// listDeliveries pages one destination's deliveries, newest first.
func (s *Server) listDeliveries(r *http.Request, kind uptime.DeliveryKind, destID int64) ([]uptime.Delivery, pageReq, error) {
	list := "deliveries-" + string(kind)
	p, err := s.page(r, list, s.opts.Limits.DefaultPageSize)
	if err != nil {
		return nil, pageReq{}, err
	}
	q := DeliveryQuery{Kind: kind, DestinationID: destID, BeforeID: p.after, Limit: p.limit + 1}
	if v := r.URL.Query().Get("status"); v != "" {
		if !slices.Contains(deliveryStatuses(), v) {
			return nil, pageReq{}, fieldErr(codeInvalidStatus, "status", "must be one of %v", deliveryStatuses())
		}
		q.Status = uptime.DeliveryStatus(v)
	}
	rows, err := s.opts.Deliveries.ListDeliveries(r.Context(), q)
	if err != nil {
		return nil, pageReq{}, storeErr(err, "")
	}
	return rows, p, nil
}

func deliveryID(d uptime.Delivery) int64 { return d.ID }

// listWebhookDeliveries is GET /webhooks/{webhook_id}/deliveries.
func (s *Server) listWebhookDeliveries(r *http.Request, _ *NoBody) (List[WebhookDelivery], error) {
	w, err := s.visibleWebhook(r)
	if err != nil {
		return List[WebhookDelivery]{}, err
	}
	rows, p, err := s.listDeliveries(r, uptime.DeliveryWebhook, w.ID)
	if err != nil {
		return List[WebhookDelivery]{}, err
	}
	return paginate(rows, p, "deliveries-webhook", deliveryID, webhookDeliveryOf), nil
}

// listAlertContactDeliveries is GET /alert-contacts/{alert_contact_id}/deliveries.
func (s *Server) listAlertContactDeliveries(r *http.Request, _ *NoBody) (List[AlertDelivery], error) {
	c, err := s.visibleContact(r)
	if err != nil {
		return List[AlertDelivery]{}, err
	}
	rows, p, err := s.listDeliveries(r, uptime.DeliveryAlert, c.ID)
	if err != nil {
		return List[AlertDelivery]{}, err
	}
	return paginate(rows, p, "deliveries-alert", deliveryID, alertDeliveryOf), nil
}

// retry re-enqueues the path's delivery, which must belong to the
// destination, and returns it with its attempts.
func (s *Server) retry(r *http.Request, kind uptime.DeliveryKind, destID int64) (uptime.Delivery, []DeliveryAttempt, error) {
	id, err := pathID(r, "delivery_id")
	if err != nil {
		return uptime.Delivery{}, nil, err
	}
	d, err := s.opts.Deliveries.GetDelivery(r.Context(), id)
	if err != nil {
		return uptime.Delivery{}, nil, storeErr(err, codeDeliveryNotFound)
	}
	if d.Kind != kind || d.DestinationID != destID {
		return uptime.Delivery{}, nil, errf(codeDeliveryNotFound, "delivery %d is not one of this %s's", id, kind)
	}
	d, err = s.opts.DeliveryOps.Retry(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotRetryable):
		return uptime.Delivery{}, nil, errf(codeDeliveryNotRetry, "delivery %d is neither failed nor abandoned", id)
	case errors.Is(err, ErrNotFound):
		return uptime.Delivery{}, nil, storeErr(err, codeDeliveryNotFound)
	case err != nil:
		return uptime.Delivery{}, nil, &apiError{code: codeInternal, msg: "the retry could not be enqueued", cause: err}
	}
	attempts, err := s.opts.Deliveries.ListAttempts(r.Context(), id)
	if err != nil {
		return uptime.Delivery{}, nil, storeErr(err, "")
	}
	out := make([]DeliveryAttempt, 0, len(attempts))
	for _, a := range attempts {
		out = append(out, attemptOf(a))
	}
	return d, out, nil
}

// retryWebhookDelivery is POST /webhooks/{webhook_id}/deliveries/{delivery_id}/retry.
func (s *Server) retryWebhookDelivery(r *http.Request, _ *NoBody) (RetriedWebhookDelivery, error) {
	w, err := s.visibleWebhook(r)
	if err != nil {
		return RetriedWebhookDelivery{}, err
	}
	d, attempts, err := s.retry(r, uptime.DeliveryWebhook, w.ID)
	if err != nil {
		return RetriedWebhookDelivery{}, err
	}
	return RetriedWebhookDelivery{WebhookDelivery: webhookDeliveryOf(d), Attempts: attempts}, nil
}

// retryAlertContactDelivery is POST /alert-contacts/{alert_contact_id}/deliveries/{delivery_id}/retry.
func (s *Server) retryAlertContactDelivery(r *http.Request, _ *NoBody) (RetriedAlertDelivery, error) {
	c, err := s.visibleContact(r)
	if err != nil {
		return RetriedAlertDelivery{}, err
	}
	d, attempts, err := s.retry(r, uptime.DeliveryAlert, c.ID)
	if err != nil {
		return RetriedAlertDelivery{}, err
	}
	return RetriedAlertDelivery{AlertDelivery: alertDeliveryOf(d), Attempts: attempts}, nil
}
