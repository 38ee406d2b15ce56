package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// Transports (EMAIL_TRANSPORT); the empty string means TransportStub.
const (
	TransportStub  = "stub"  // log the message; deliver nothing
	TransportSMTP  = "smtp"  // send through SMTPHost:SMTPPort
	TransportWPCOM = "wpcom" // POST the rendered message to WPCOMEndpoint
)

// StubResponse is the SendResult.Response of the stub transport: it says
// plainly that nothing was mailed.
const StubResponse = "stub transport: logged, not delivered"

// DefaultTimeout bounds one send when Opts.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Opts configures a Sender; it mirrors the EMAIL_*, SMTP_* and
// WPCOM_EMAIL_* configuration keys.
type Opts struct {
	Transport string // TransportStub (or ""), TransportSMTP or TransportWPCOM
	From      string // the From address (EMAIL_FROM); required

	SMTPHost     string // required for smtp
	SMTPPort     int    // required for smtp
	SMTPUsername string // AUTH PLAIN with SMTPPassword when set; none otherwise
	SMTPPassword string
	// SMTPUseTLS makes STARTTLS mandatory; otherwise it is used when the
	// server offers it.
	SMTPUseTLS bool
	// SMTPTLSConfig verifies the server's certificate. Nil means the system
	// roots, for SMTPHost. Tests pass their own roots.
	SMTPTLSConfig *tls.Config

	WPCOMEndpoint  string // required for wpcom
	WPCOMAuthToken string // sent as "Authorization: Bearer <token>" when set

	// Timeout bounds one send (connect, dialogue or request, answer). Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Logger receives the stub transport's "email stub send" lines (INFO).
	// Nil discards.
	Logger *slog.Logger
	// Now is the clock of the message's Date header. Nil means time.Now.
	Now func() time.Time
}

// Sender sends alert emails over one transport. It is safe for concurrent use.
type Sender struct {
	o      Opts
	from   string
	client *http.Client // wpcom only
	log    *slog.Logger
}

// New validates o; it does no I/O.
func New(o Opts) (*Sender, error) {
	if err := o.defaults(); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", o.From, err)
	}
	s := &Sender{o: o, from: from.Address, log: o.Logger.With("component", "email", "transport", o.Transport)}
	if o.Transport == TransportWPCOM {
		s.client = httpsend.NewClient(o.Timeout)
	}
	return s, nil
}

// defaults validates o's transport settings and fills its zero fields.
func (o *Opts) defaults() error {
	switch o.Transport {
	case "", TransportStub:
		o.Transport = TransportStub
	case TransportSMTP:
		if o.SMTPHost == "" || o.SMTPPort <= 0 || o.SMTPPort > 65535 {
			return fmt.Errorf("smtp: host %q port %d: a host and a port in 1-65535 are required", o.SMTPHost, o.SMTPPort)
		}
	case TransportWPCOM:
		if u, err := url.Parse(o.WPCOMEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("wpcom: endpoint %q: must be http or https with a host", o.WPCOMEndpoint)
		}
	default:
		return fmt.Errorf("transport %q: must be one of stub, smtp, wpcom", o.Transport)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("timeout %v: must not be negative", o.Timeout)
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
	return nil
}

// Transport is the transport this Sender uses: stub, smtp or wpcom.
func (s *Sender) Transport() string { return s.o.Transport }

// message is one rendered email.
type message struct {
	from, to             string
	subject, plain, html string
}

// SendAlert renders n (see Render) and sends it to dest["address"]. A
// missing or invalid address is a *uptime.PermanentError. The stub
// transport logs "email stub send" and answers 250 StubResponse: nothing is
// mailed. smtp answers 250 "delivered" once the server accepted the
// message; a failure carries the server's reply code, or 554 when there is
// none, and is retried. wpcom answers the endpoint's status and body; a
// non-2xx answer or a transport error is retried.
func (s *Sender) SendAlert(ctx context.Context, dest map[string]string, n uptime.Notice) (uptime.SendResult, error) {
	to, err := recipient(dest)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: err}
	}
	m := message{from: s.from, to: to}
	m.subject, m.plain, m.html = Render(n)
	switch s.o.Transport {
	case TransportSMTP:
		return s.sendSMTP(ctx, m)
	case TransportWPCOM:
		return s.sendWPCOM(ctx, m)
	default:
		s.log.InfoContext(ctx, "email stub send", "from", m.from, "to", m.to, "subject", m.subject,
			"delivery_id", n.DeliveryID)
		return uptime.SendResult{StatusCode: 250, Response: StubResponse}, nil
	}
}

// recipient is dest's address, as a bare addr-spec.
func recipient(dest map[string]string) (string, error) {
	raw := strings.TrimSpace(dest["address"])
	if raw == "" {
		return "", errors.New("email: destination has no address")
	}
	if strings.ContainsAny(raw, "\r\n") {
		return "", errors.New("email: address contains a line break")
	}
	addr, err := mail.ParseAddress(raw)
	if err != nil {
		return "", fmt.Errorf("email: address: %w", err)
	}
	return addr.Address, nil
}
