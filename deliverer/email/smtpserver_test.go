package email_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailed is one message the test SMTP server accepted.
type mailed struct {
	from string
	to   []string
	data []byte
	tls  bool   // sent after STARTTLS
	user string // authenticated as
}

// smtpServer is an in-process SMTP server that records what it accepts.
type smtpServer struct {
	host    string
	port    int
	got     chan mailed
	auth    bool            // require AUTH before MAIL
	rcptErr *smtp.SMTPError // answer every RCPT with this
}

// startSMTP serves s on 127.0.0.1, offering STARTTLS when tlsCfg is set.
func startSMTP(t *testing.T, s *smtpServer, tlsCfg *tls.Config) *smtpServer {
	t.Helper()
	s.got = make(chan mailed, 8)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = tlsCfg
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	host, port, _ := net.SplitHostPort(l.Addr().String())
	s.host = host
	s.port, _ = strconv.Atoi(port)
	return s
}

// session is one SMTP connection.
type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	msg  mailed
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != "alice" || password != "s3cret" {
			return errors.New("invalid credentials")
		}
		s.msg.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.auth && s.msg.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptErr != nil {
		return s.srv.rcptErr
	}
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = b
	_, s.msg.tls = s.conn.TLSConnectionState()
	s.srv.got <- s.msg
	return nil
}

func (s *session) Reset()        { s.msg = mailed{user: s.msg.user} }
func (s *session) Logout() error { return nil }
