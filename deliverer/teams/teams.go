package teams

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/chathook"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// UserAgent is the User-Agent of every request.
const UserAgent = "jetmon-teams/1"

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

// Sender posts to Teams incoming webhooks. It is safe for concurrent use.
type Sender struct {
	hook *chathook.Hook
}

// New validates o and builds the Sender's HTTP client; it does no I/O.
func New(o Opts) (*Sender, error) {
	hook, err := chathook.New(chathook.Opts{Name: "teams", UserAgent: UserAgent, Timeout: cmp.Or(o.Timeout, DefaultTimeout),
		AllowHTTP: o.AllowHTTP, QuoteRefusal: false, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &Sender{hook: hook}, nil
}

// SendAlert posts n to dest["webhook_url"]. A 2xx answer is success (a
// Workflows webhook answers 202). A missing URL, one that is not https
// with a host, and the answers of a webhook that no longer works (403, 404,
// 410) are a *uptime.PermanentError. Other answers, a 3xx (redirects are not
// followed) and transport errors are retried. Errors never carry the URL,
// which is the webhook's credential.
func (s *Sender) SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error) {
	return s.hook.Send(ctx, dest, n.DeliveryID, newMessage(n))
}
