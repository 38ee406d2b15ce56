package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/httpsend"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// smtpFailure is the status of a failed send the server gave no code for.
const smtpFailure = 554

// sendSMTP sends m through the configured server. A client is built per
// send (a go-mail client holds a connection). go-mail bounds only the dial
// by ctx and the rest by the timeout, so the connection is also closed as
// soon as ctx is done.
func (s *Sender) sendSMTP(ctx context.Context, m message) (uptime.SendResult, error) {
	msg, err := s.mimeMessage(m)
	if err != nil {
		return uptime.SendResult{}, &uptime.PermanentError{Err: fmt.Errorf("email smtp: %w", err)}
	}
	var stop func() bool
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err // go-mail wraps it
		}
		stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
	client, err := gomail.NewClient(s.o.SMTPHost, append(s.smtpOptions(), gomail.WithDialContextFunc(dial))...)
	if err == nil {
		err = client.DialAndSendWithContext(ctx, msg)
	}
	if stop != nil {
		stop()
	}
	if err != nil {
		if ctx.Err() != nil {
			err = errors.Join(ctx.Err(), err)
		}
		return uptime.SendResult{StatusCode: smtpCode(err), Response: httpsend.ResponseText([]byte(err.Error()))},
			fmt.Errorf("email smtp: %w", err)
	}
	return uptime.SendResult{StatusCode: 250, Response: "delivered"}, nil
}

// smtpCode is the server's reply code in err, else smtpFailure.
func smtpCode(err error) int {
	var serr *gomail.SendError
	if errors.As(err, &serr) && serr.ErrorCode() > 0 {
		return serr.ErrorCode()
	}
	var perr *textproto.Error
	if errors.As(err, &perr) && perr.Code > 0 {
		return perr.Code
	}
	return smtpFailure
}

// smtpOptions: STARTTLS mandatory with SMTPUseTLS, else opportunistic;
// AUTH PLAIN only with a username (go-mail refuses PLAIN over an
// unencrypted connection to anything but localhost).
func (s *Sender) smtpOptions() []gomail.Option {
	policy := gomail.TLSOpportunistic
	if s.o.SMTPUseTLS {
		policy = gomail.TLSMandatory
	}
	tlsConfig := &tls.Config{ServerName: s.o.SMTPHost, MinVersion: tls.VersionTLS12}
	if s.o.SMTPTLSConfig != nil {
		tlsConfig = s.o.SMTPTLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = s.o.SMTPHost
		}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.o.SMTPPort), gomail.WithTimeout(s.o.Timeout),
		gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(tlsConfig),
	}
	if s.o.SMTPUsername != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(s.o.SMTPUsername), gomail.WithPassword(s.o.SMTPPassword))
	}
	return opts
}

// mimeMessage is m as multipart/alternative: plain text, then HTML.
func (s *Sender) mimeMessage(m message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.to); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.subject)
	msg.SetDateWithValue(s.o.Now())
	msg.SetMessageID()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // RFC 3834: no auto-replies
	msg.SetBodyString(gomail.TypeTextPlain, m.plain)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.html)
	return msg, nil
}
