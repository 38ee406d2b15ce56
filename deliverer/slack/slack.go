package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// UserAgent is the User-Agent of every request.
const UserAgent = "jetmon-slack/1"

// DefaultTimeout bounds one send when Opts.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Opts configures a Sender. The zero value is usable.
type Opts struct {
	// Timeout bounds one request, response included. Zero means DefaultTimeout.
	Timeout time.Duration
	// AllowHTTP accepts http:// webhook URLs; only tests set it.
	AllowHTTP bool
	// Logger receives a debug line per attempt. Nil discards.
	Logger *slog.Logger
}

// Sender posts to Slack incoming webhooks. It is safe for concurrent use.
type Sender struct {
	allowHTTP bool
	client    *http.Client
	log       *slog.Logger
}

// New validates o and builds the Sender's HTTP client; it does no I/O.
func New(o Opts) (*Sender, error) {
	if o.Timeout < 0 {
		return nil, fmt.Errorf("slack: timeout %v: must not be negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{allowHTTP: o.AllowHTTP, client: newClient(o.Timeout), log: o.Logger.With("component", "slack")}, nil
}

// SendAlert posts n to dest["webhook_url"]. A 2xx answer is success.
// A missing URL, one that is not https with a host, and the answers Slack
// gives for a webhook that no longer works (403 invalid_token or
// action_prohibited, 404 no_service, 410 channel_is_archived) are a
// *uptime.PermanentError. Other answers, a 3xx (redirects are not
// followed) and transport errors are retried. Errors never carry the URL,
// which is the webhook's credential.
func (s *Sender) SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error) {
	target, err := s.webhookURL(dest)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: err}
	}
	body, err := encodeJSON(newMessage(n))
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("slack: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("slack: build request: %w", withoutURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	res, err := post(s.client, req)
	s.log.DebugContext(ctx, "slack attempt", "delivery_id", n.DeliveryID, "status", res.StatusCode)
	switch {
	case err != nil:
		return res, fmt.Errorf("slack: %w", err)
	case res.StatusCode == http.StatusForbidden, res.StatusCode == http.StatusNotFound, res.StatusCode == http.StatusGone:
		return res, &uptime.PermanentError{Err: fmt.Errorf("slack: webhook refused (%d %s)", res.StatusCode, res.Response)}
	case res.StatusCode < 200 || res.StatusCode > 299:
		return res, fmt.Errorf("slack: answered %d", res.StatusCode)
	}
	return res, nil
}

// webhookURL is dest's webhook URL if it is https (or http when allowed)
// with a host.
func (s *Sender) webhookURL(dest map[string]string) (string, error) {
	raw := strings.TrimSpace(dest["webhook_url"])
	if raw == "" {
		return "", errors.New("slack: destination has no webhook_url")
	}
	u, err := url.Parse(raw)
	ok := err == nil && u.Host != "" && (u.Scheme == "https" || (s.allowHTTP && u.Scheme == "http"))
	if !ok {
		return "", errors.New("slack: webhook_url must be an https URL with a host")
	}
	return u.String(), nil
}
