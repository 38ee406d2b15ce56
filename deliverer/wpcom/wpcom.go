package wpcom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// DefaultURL is WPCOM's status-change endpoint.
const DefaultURL = "https://public-api.wordpress.com/wpcom/v2/jetpack-monitor/status-change"

// UserAgent is the User-Agent of every notification.
const UserAgent = "jetmon-wpcom/1"

// Defaults applied by New to zero-valued Opts fields.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultFailureThreshold = 5                // consecutive failures that open the breaker
	DefaultOpenTimeout      = 60 * time.Second // open, then half-open after this long
)

// minRetryAfter is the least a deferral asks the caller to wait.
const minRetryAfter = time.Second

// Opts configures a Notifier. Token is required.
type Opts struct {
	// URL is the endpoint. Empty means DefaultURL (config WPCOM_NOTIFY_URL).
	URL string
	// Token is sent as "Authorization: Bearer <Token>" (config AUTH_TOKEN).
	Token string
	// Timeout bounds one request, response included. Zero means DefaultTimeout.
	Timeout time.Duration
	// FailureThreshold is how many consecutive failures open the breaker;
	// any success resets the count. Zero means DefaultFailureThreshold.
	FailureThreshold int
	// OpenTimeout is how long the breaker stays open before it lets one
	// probe request through (half-open). Zero means DefaultOpenTimeout.
	OpenTimeout time.Duration
	// OnStateChange, if set, is called on every breaker transition (for a
	// metric). It runs while the breaker is locked: it must be quick and
	// must not call the Notifier.
	OnStateChange func(from, to State)
	// Logger receives a line per breaker transition. Nil discards.
	Logger *slog.Logger
	// Now is the clock of DeferredError.RetryAfter. Nil means time.Now. The
	// breaker's own transitions follow the wall clock (gobreaker reads
	// time.Now itself).
	Now func() time.Time
}

// Notifier sends status changes. It is safe for concurrent use; its
// breaker is shared by every caller.
type Notifier struct {
	client      *http.Client
	url         string
	token       string
	openTimeout time.Duration
	now         func() time.Time
	breaker     *gobreaker.CircuitBreaker[uptime.SendResult]

	mu       sync.Mutex
	openedAt time.Time // when the breaker last opened
}

// New validates o and builds the Notifier; it does no I/O.
func New(o Opts) (*Notifier, error) {
	if err := o.defaults(); err != nil {
		return nil, fmt.Errorf("wpcom: %w", err)
	}
	n := &Notifier{client: httpsend.NewClient(o.Timeout), url: o.URL, token: o.Token, openTimeout: o.OpenTimeout, now: o.Now}
	n.breaker = gobreaker.NewCircuitBreaker[uptime.SendResult](n.settings(o))
	return n, nil
}

// defaults validates o and fills its zero fields.
func (o *Opts) defaults() error {
	if o.Token == "" {
		return errors.New("token is required")
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: must be http or https with a host", o.URL)
	}
	if o.Timeout < 0 || o.FailureThreshold < 0 || o.OpenTimeout < 0 {
		return errors.New("timeout, failure threshold and open timeout must not be negative")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.FailureThreshold == 0 {
		o.FailureThreshold = DefaultFailureThreshold
	}
	if o.OpenTimeout == 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// NotifyStatusChange POSTs c as Jetmon v1's status-change payload. A 2xx
// answer is success; anything else (redirects are not followed) or a
// transport error is an error to retry, and counts towards opening the
// breaker, except a cancelled ctx. A change WPCOM can never accept (no blog
// id, a status other than running or confirmed down) is a
// *uptime.PermanentError and is not sent. While the breaker is open, or
// half-open with its one probe in flight, nothing is sent and the answer is
// *uptime.DeferredError with the time until the breaker half-opens (at
// least one second).
func (n *Notifier) NotifyStatusChange(ctx context.Context, c uptime.StatusChange) (uptime.SendResult, error) {
	body, err := encode(c)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("wpcom: %w", err)}
	}
	res, err := n.breaker.Execute(func() (uptime.SendResult, error) { return n.send(ctx, body) })
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return uptime.SendResult{}, &uptime.DeferredError{RetryAfter: n.retryAfter(), Reason: "wpcom circuit breaker is " + string(n.State())}
	case err != nil:
		return res, fmt.Errorf("wpcom: %w", err)
	}
	return res, nil
}

// State is the breaker's current state.
func (n *Notifier) State() State { return stateOf(n.breaker.State()) }

// send POSTs one notification.
func (n *Notifier) send(ctx context.Context, body []byte) (uptime.SendResult, error) {
	req, err := httpsend.NewPost(ctx, n.url, UserAgent, body)
	if err != nil {
		return uptime.SendResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	res, err := httpsend.Post(n.client, req)
	if err != nil {
		return res, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res, fmt.Errorf("wpcom answered %d", res.StatusCode)
	}
	return res, nil
}

// retryAfter is how long until the breaker half-opens, at least
// minRetryAfter.
func (n *Notifier) retryAfter() time.Duration {
	n.mu.Lock()
	wait := n.openTimeout - n.now().Sub(n.openedAt)
	n.mu.Unlock()
	return max(wait, minRetryAfter)
}
