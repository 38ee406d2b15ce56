package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Request headers of a webhook delivery.
const (
	HeaderEvent     = "X-Jetmon-Event"     // the webhook event type, e.g. "event.opened"
	HeaderDelivery  = "X-Jetmon-Delivery"  // the delivery id, stable across attempts: dedupe on it
	HeaderSignature = "X-Jetmon-Signature" // "t=<unix seconds>,v1=<hex>[,v1=<hex>]"
)

// UserAgent is the User-Agent of every webhook request.
const UserAgent = "jetmon-webhook/1"

// DefaultTimeout bounds one attempt when Opts.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Opts configures a Sender. The zero value is usable.
type Opts struct {
	// Timeout bounds one attempt: connecting, sending, the response headers
	// and reading the response. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives a debug line per attempt. Nil discards.
	Logger *slog.Logger
	// Now is the clock of the signature timestamp and of the rotation grace
	// window. Nil means time.Now.
	Now func() time.Time
}

// Sender POSTs webhook deliveries. It is safe for concurrent use.
type Sender struct {
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// New validates o and builds the Sender's HTTP client; it does no I/O.
func New(o Opts) (*Sender, error) {
	if o.Timeout < 0 {
		return nil, fmt.Errorf("webhook: timeout %v: must not be negative", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sender{client: httpsend.NewClient(o.Timeout), log: o.Logger.With("component", "webhook"), now: o.Now}, nil
}

// SendWebhook POSTs d.Payload, as is, to hook.URL, signed with hook.Secret
// and, while Now is before hook.PreviousSecretExpiresAt, also with
// hook.PreviousSecret. The signature timestamp is this attempt's time, so a
// retry is signed anew.
//
// A 2xx answer is success. Redirects are not followed: a receiver answering
// 3xx has failed, like any other non-2xx answer, and the error comes with
// the SendResult (status and at most uptime.MaxResponseBytes of the body).
// 410 Gone is a *uptime.PermanentError (the receiver says the endpoint is
// gone for good), as are a URL that is not http(s) with a host, an empty
// secret and an empty payload; every other failure is retried. A transport
// error has StatusCode 0.
func (s *Sender) SendWebhook(ctx context.Context, hook uptime.Webhook, d uptime.Delivery) (uptime.SendResult, error) {
	target, err := checkHook(hook, d)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: err}
	}
	now := s.now()
	req, err := httpsend.NewPost(ctx, target, UserAgent, d.Payload)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set(HeaderEvent, d.EventType)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderSignature, signatureHeader(hook, d.Payload, now))
	res, err := httpsend.Post(s.client, req)
	s.log.DebugContext(ctx, "webhook attempt", "webhook_id", hook.ID, "delivery_id", d.ID, "status", res.StatusCode)
	if err != nil {
		return res, fmt.Errorf("webhook: %w", err)
	}
	if res.StatusCode == http.StatusGone {
		return res, &uptime.PermanentError{Err: errors.New("webhook: receiver answered 410 Gone")}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res, fmt.Errorf("webhook: receiver answered %d", res.StatusCode)
	}
	return res, nil
}

// checkHook returns the URL to POST to, or why the delivery can never be
// sent as configured.
func checkHook(hook uptime.Webhook, d uptime.Delivery) (string, error) {
	u, err := url.Parse(hook.URL)
	if err != nil {
		return "", fmt.Errorf("webhook %d: url: %w", hook.ID, httpsend.WithoutURL(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("webhook %d: url must be http or https with a host", hook.ID)
	}
	if hook.Secret == "" {
		return "", fmt.Errorf("webhook %d: no secret to sign with", hook.ID)
	}
	if len(d.Payload) == 0 {
		return "", fmt.Errorf("delivery %d: empty payload", d.ID)
	}
	return u.String(), nil
}
