package deliverer

import (
	"context"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The transports (subpackages deliverer/webhook, email, pagerduty, slack,
// teams, wpcom) satisfy these interfaces implicitly; the wiring hands them
// to New. Error contract for every Send: nil means delivered; a
// *uptime.PermanentError abandons the delivery at once; a
// *uptime.DeferredError waits its RetryAfter without using an attempt;
// any other error is retried on RETRY_SCHEDULE. The SendResult is filled
// whenever the receiver answered, on success and on failure.

// WebhookSender POSTs a webhook delivery's frozen payload, signed with the
// webhook's secret (and its previous secret during a rotation's grace
// window).
type WebhookSender interface {
	SendWebhook(ctx context.Context, hook uptime.Webhook, d uptime.Delivery) (uptime.SendResult, error)
}

// AlertSender sends an alert-contact notice over one transport; dest is the
// contact's destination object ({"address"}, {"integration_key"},
// {"webhook_url"}).
type AlertSender interface {
	SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error)
}

// StatusNotifier sends the legacy WPCOM status-change notification.
type StatusNotifier interface {
	NotifyStatusChange(ctx context.Context, c uptime.StatusChange) (uptime.SendResult, error)
}
