package chathook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Opts configures a Hook for one transport.
type Opts struct {
	// Name starts every error ("slack: ...") and is the logger's component.
	Name string
	// UserAgent is the User-Agent of every request.
	UserAgent string
	// Timeout bounds one request, response included. The transport applies
	// its default first: zero is refused.
	Timeout time.Duration
	// AllowHTTP accepts http:// webhook URLs; only tests set it.
	AllowHTTP bool
	// QuoteRefusal puts the answer's body in a refusal's error (Slack
	// answers a short code such as invalid_token).
	QuoteRefusal bool
	// Logger receives a debug line per attempt. Nil discards.
	Logger *slog.Logger
}

// Hook posts one transport's messages. It is safe for concurrent use.
type Hook struct {
	name, userAgent string
	allowHTTP       bool
	quoteRefusal    bool
	client          *http.Client
	log             *slog.Logger
}

// New validates o and builds the Hook's HTTP client; it does no I/O.
func New(o Opts) (*Hook, error) {
	if o.Timeout < 0 {
		return nil, fmt.Errorf("%s: timeout %v: must not be negative", o.Name, o.Timeout)
	}
	if o.Timeout == 0 {
		return nil, fmt.Errorf("%s: no timeout", o.Name)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hook{name: o.Name, userAgent: o.UserAgent, allowHTTP: o.AllowHTTP, quoteRefusal: o.QuoteRefusal,
		client: httpsend.NewClient(o.Timeout), log: o.Logger.With("component", o.Name)}, nil
}

// Send posts msg as JSON to dest["webhook_url"] for delivery deliveryID.
// A 2xx answer is success. A missing URL, one that is not https with a
// host, and a 403, 404 or 410 answer are a *uptime.PermanentError. Other
// answers, a 3xx (redirects are not followed) and transport errors are
// retried.
func (h *Hook) Send(ctx context.Context, dest map[string]string, deliveryID int64, msg any) (uptime.SendResult, error) {
	target, err := h.webhookURL(dest)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("%s: %w", h.name, err)}
	}
	body, err := httpsend.EncodeJSON(msg)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("%s: %w", h.name, err)}
	}
	req, err := httpsend.NewPost(ctx, target, h.userAgent, body)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("%s: %w", h.name, err)
	}
	res, err := httpsend.Post(h.client, req)
	h.log.DebugContext(ctx, h.name+" attempt", "delivery_id", deliveryID, "status", res.StatusCode)
	switch {
	case err != nil:
		return res, fmt.Errorf("%s: %w", h.name, err)
	case res.StatusCode == http.StatusForbidden, res.StatusCode == http.StatusNotFound, res.StatusCode == http.StatusGone:
		return res, &uptime.PermanentError{Err: h.refused(res)}
	case res.StatusCode < 200 || res.StatusCode > 299:
		return res, fmt.Errorf("%s: answered %d", h.name, res.StatusCode)
	}
	return res, nil
}

// refused is the error of a webhook that no longer works.
func (h *Hook) refused(res uptime.SendResult) error {
	if h.quoteRefusal {
		return fmt.Errorf("%s: webhook refused (%d %s)", h.name, res.StatusCode, res.Response)
	}
	return fmt.Errorf("%s: webhook refused (%d)", h.name, res.StatusCode)
}

// webhookURL is dest's webhook URL, trimmed, if it is https (or http when
// allowed) with a host. Its errors do not quote the URL.
func (h *Hook) webhookURL(dest map[string]string) (string, error) {
	raw := strings.TrimSpace(dest["webhook_url"])
	if raw == "" {
		return "", errors.New("destination has no webhook_url")
	}
	u, err := url.Parse(raw)
	ok := err == nil && u.Host != "" && (u.Scheme == "https" || (h.allowHTTP && u.Scheme == "http"))
	if !ok {
		return "", errors.New("webhook_url must be an https URL with a host")
	}
	return u.String(), nil
}
