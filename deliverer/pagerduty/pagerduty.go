package pagerduty

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

// DefaultURL is the Events API v2 enqueue endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// UserAgent is the User-Agent of every request.
const UserAgent = "jetmon-pagerduty/1"

// DefaultTimeout bounds one send when Opts.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Opts configures a Sender. The zero value is usable.
type Opts struct {
	// URL is the enqueue endpoint. Empty means DefaultURL; tests point it
	// at their receiver.
	URL string
	// Timeout bounds one request, response included. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives a debug line per attempt. Nil discards.
	Logger *slog.Logger
}

// Sender enqueues PagerDuty events. It is safe for concurrent use.
type Sender struct {
	url    string
	client *http.Client
	log    *slog.Logger
}

// New validates o and builds the Sender's HTTP client; it does no I/O.
func New(o Opts) (*Sender, error) {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty: url %q: must be http or https with a host", o.URL)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("pagerduty: timeout %v: must not be negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{url: o.URL, client: httpsend.NewClient(o.Timeout), log: o.Logger.With("component", "pagerduty")}, nil
}

// SendAlert enqueues n for the service whose integration key is
// dest["integration_key"]: event_action "resolve" for a recovery, else
// "trigger", with dedup_key n.DedupKey. A 2xx answer (PagerDuty says 202)
// is success. A missing integration key, and a 400 answer, are a
// *uptime.PermanentError: the body is fixed, so PagerDuty rejecting it as
// invalid means the routing key is wrong, and retrying cannot help. 429,
// 5xx, a 3xx (redirects are not followed) and transport errors are retried.
func (s *Sender) SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error) {
	key := strings.TrimSpace(dest["integration_key"])
	if key == "" {
		return uptime.SendResult{}, &uptime.PermanentError{Err: errors.New("pagerduty: destination has no integration_key")}
	}
	body, err := httpsend.EncodeJSON(newEvent(key, n))
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("pagerduty: %w", err)}
	}
	req, err := httpsend.NewPost(ctx, s.url, UserAgent, body)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("pagerduty: %w", err)
	}
	res, err := httpsend.Post(s.client, req)
	s.log.DebugContext(ctx, "pagerduty attempt", "delivery_id", n.DeliveryID, "status", res.StatusCode)
	switch {
	case err != nil:
		return res, fmt.Errorf("pagerduty: %w", err)
	case res.StatusCode == http.StatusBadRequest:
		return res, &uptime.PermanentError{Err: errors.New("pagerduty: event rejected (400): check the integration key")}
	case res.StatusCode < 200 || res.StatusCode > 299:
		return res, fmt.Errorf("pagerduty: answered %d", res.StatusCode)
	}
	return res, nil
}
