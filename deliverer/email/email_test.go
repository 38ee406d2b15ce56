package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/jetmon-mesh/jetmon/deliverer/email"
	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/uptime"
)

const from = "jetmon@noreply.invalid"

var dest = map[string]string{"address": "ops@example.com"}

func newSender(t *testing.T, o email.Opts) *email.Sender {
	t.Helper()
	if o.From == "" {
		o.From = from
	}
	o.Now = transporttest.At
	s, err := email.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStubLogsAndDoesNotDeliver: the stub renders, logs at INFO and says it
// delivered nothing.
func TestStubLogsAndDoesNotDeliver(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := newSender(t, email.Opts{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if s.Transport() != email.TransportStub {
		t.Fatalf("Transport() = %q, want stub for the empty transport", s.Transport())
	}
	res, err := s.SendAlert(t.Context(), dest, downNotice())
	if err != nil || res != (uptime.SendResult{StatusCode: 250, Response: "stub transport: logged, not delivered"}) {
		t.Fatalf("SendAlert = %+v, %v", res, err)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", logs.String(), err)
	}
	want := map[string]any{"level": "INFO", "msg": "email stub send", "from": from, "to": "ops@example.com",
		"subject": "[Down] https://example.com/shop", "transport": "stub"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
}

// TestSendAlertRejectsBadAddress: permanent, whatever the transport, and
// nothing is sent.
func TestSendAlertRejectsBadAddress(t *testing.T) {
	t.Parallel()
	srv, got := transporttest.Serve(t, transporttest.Answering(200, ""))
	senders := map[string]*email.Sender{
		"stub":  newSender(t, email.Opts{}),
		"wpcom": newSender(t, email.Opts{Transport: email.TransportWPCOM, WPCOMEndpoint: srv.URL}),
		"smtp":  newSender(t, email.Opts{Transport: email.TransportSMTP, SMTPHost: "127.0.0.1", SMTPPort: 1}),
	}
	tests := map[string]map[string]string{
		"no destination":   nil,
		"no address":       {"integration_key": "x"},
		"blank address":    {"address": "  "},
		"not an address":   {"address": "ops at example"},
		"header injection": {"address": "ops@example.com\r\nBcc: all@example.com"},
		"two addresses":    {"address": "a@example.com, b@example.com"},
	}
	for transport, s := range senders {
		for name, d := range tests {
			t.Run(transport+"/"+name, func(t *testing.T) {
				t.Parallel()
				_, err := s.SendAlert(t.Context(), d, downNotice())
				var perm *uptime.PermanentError
				if !errors.As(err, &perm) {
					t.Errorf("err = %v, want *uptime.PermanentError", err)
				}
			})
		}
	}
	t.Cleanup(func() {
		if len(got) != 0 {
			t.Errorf("%d requests reached the wpcom endpoint", len(got))
		}
	})
}

// TestWPCOMTransport freezes the wpcom transport's body and checks its
// answers.
func TestWPCOMTransport(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status  int
		token   string
		wantErr bool
	}{
		"wpcom_request":  {status: 200, token: "email-token"},
		"no token":       {status: 202},
		"500 is retried": {status: 500, token: "email-token", wantErr: true},
		"400 is retried": {status: 400, token: "email-token", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, got := transporttest.Serve(t, transporttest.Answering(tc.status, `{"queued":true}`))
			s := newSender(t, email.Opts{Transport: email.TransportWPCOM, WPCOMEndpoint: srv.URL + "/email",
				WPCOMAuthToken: tc.token})
			res, err := s.SendAlert(t.Context(), dest, downNotice())
			var perm *uptime.PermanentError
			if (err != nil) != tc.wantErr || errors.As(err, &perm) {
				t.Fatalf("err = %v, want a retryable error: %v", err, tc.wantErr)
			}
			if res != (uptime.SendResult{StatusCode: tc.status, Response: `{"queued":true}`}) {
				t.Errorf("result = %+v", res)
			}
			r := transporttest.Next(t, got)
			wantAuth := ""
			if tc.token != "" {
				wantAuth = "Bearer " + tc.token
			}
			if r.Header.Get("Authorization") != wantAuth || r.Header.Get("Content-Type") != "application/json" ||
				r.Header.Get("User-Agent") != email.UserAgent {
				t.Errorf("headers = %v", r.Header)
			}
			if name == "wpcom_request" {
				transporttest.Golden(t, name, transporttest.IndentJSON(t, r.Body))
			}
		})
	}
}

// TestSMTPTransport sends through an in-process SMTP server.
func TestSMTPTransport(t *testing.T) {
	t.Parallel()
	cert, roots := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	clientTLS := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	tests := map[string]struct {
		server   *smtpServer
		tls      bool // server offers STARTTLS
		opts     email.Opts
		wantCode int
		wantTLS  bool
		wantUser string
	}{
		"plaintext without auth": {server: &smtpServer{}, wantCode: 250},
		"opportunistic STARTTLS": {server: &smtpServer{}, tls: true, opts: email.Opts{SMTPTLSConfig: clientTLS},
			wantCode: 250, wantTLS: true},
		"mandatory STARTTLS with AUTH PLAIN": {server: &smtpServer{auth: true}, tls: true,
			opts:     email.Opts{SMTPUseTLS: true, SMTPTLSConfig: clientTLS, SMTPUsername: "alice", SMTPPassword: "s3cret"},
			wantCode: 250, wantTLS: true, wantUser: "alice"},
		"mandatory STARTTLS not offered": {server: &smtpServer{}, opts: email.Opts{SMTPUseTLS: true}, wantCode: 554},
		"untrusted certificate":          {server: &smtpServer{}, tls: true, opts: email.Opts{SMTPUseTLS: true}, wantCode: 554},
		"wrong password": {server: &smtpServer{auth: true}, tls: true,
			opts:     email.Opts{SMTPUseTLS: true, SMTPTLSConfig: clientTLS, SMTPUsername: "alice", SMTPPassword: "guess"},
			wantCode: 454},
		"recipient rejected": {server: &smtpServer{rcptErr: &smtp.SMTPError{Code: 550, Message: "no such user"}},
			wantCode: 550},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var srvTLS *tls.Config
			if tc.tls {
				srvTLS = serverTLS
			}
			srv := startSMTP(t, tc.server, srvTLS)
			o := tc.opts
			o.Transport, o.SMTPHost, o.SMTPPort, o.Timeout = email.TransportSMTP, srv.host, srv.port, 5*time.Second
			res, err := newSender(t, o).SendAlert(t.Context(), dest, hostileNotice())
			if res.StatusCode != tc.wantCode || (err == nil) != (tc.wantCode == 250) {
				t.Fatalf("SendAlert = %+v, %v; want status %d", res, err, tc.wantCode)
			}
			var perm *uptime.PermanentError
			if errors.As(err, &perm) {
				t.Errorf("err = %v: SMTP failures are retried, not permanent", err)
			}
			if tc.wantCode != 250 {
				if len(srv.got) != 0 {
					t.Error("a failed send delivered a message")
				}
				return
			}
			if res.Response != "delivered" {
				t.Errorf("response = %q, want delivered", res.Response)
			}
			m := <-srv.got
			if m.tls != tc.wantTLS || m.user != tc.wantUser {
				t.Errorf("message sent with tls %v as %q, want tls %v as %q", m.tls, m.user, tc.wantTLS, tc.wantUser)
			}
			checkMIME(t, m, hostileNotice())
		})
	}
}

// checkMIME parses the message the server got and compares it with Render.
func checkMIME(t *testing.T, m mailed, n uptime.Notice) {
	t.Helper()
	subject, plain, html := email.Render(n)
	if m.from != from || len(m.to) != 1 || m.to[0] != dest["address"] {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); got != subject {
		t.Errorf("Subject = %q, want %q", got, subject)
	}
	if date, err := msg.Header.Date(); err != nil || !date.Equal(transporttest.At().Truncate(time.Second)) {
		t.Errorf("Date = %v (%v), want %v from Opts.Now", date, err, transporttest.At().Truncate(time.Second))
	}
	if msg.Header.Get("Bcc") != "" || msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("headers: Bcc %q, Auto-Submitted %q", msg.Header.Get("Bcc"), msg.Header.Get("Auto-Submitted"))
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		body := new(strings.Builder)
		_, _ = io.Copy(body, p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = strings.ReplaceAll(body.String(), "\r\n", "\n")
	}
	if parts["text/plain"] != plain {
		t.Errorf("text/plain part:\n%s\nwant:\n%s", parts["text/plain"], plain)
	}
	if parts["text/html"] != html {
		t.Errorf("text/html part:\n%s\nwant:\n%s", parts["text/html"], html)
	}
}

// TestSMTPBoundByContext: a server that never answers does not hold the send.
func TestSMTPBoundByContext(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() }) // accepts into the backlog, never greets
	addr := l.Addr().(*net.TCPAddr)
	s := newSender(t, email.Opts{Transport: email.TransportSMTP, SMTPHost: "127.0.0.1", SMTPPort: addr.Port})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := s.SendAlert(ctx, dest, downNotice())
	if err == nil || res.StatusCode != 554 {
		t.Fatalf("SendAlert = %+v, %v; want a 554 failure", res, err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("took %v: the context did not bound the send", elapsed)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := map[string]email.Opts{
		"unknown transport":   {Transport: "sendmail", From: from},
		"smtp without host":   {Transport: email.TransportSMTP, SMTPPort: 25, From: from},
		"smtp without port":   {Transport: email.TransportSMTP, SMTPHost: "mail.example.com", From: from},
		"smtp port too big":   {Transport: email.TransportSMTP, SMTPHost: "mail.example.com", SMTPPort: 70000, From: from},
		"wpcom without url":   {Transport: email.TransportWPCOM, From: from},
		"wpcom not http":      {Transport: email.TransportWPCOM, WPCOMEndpoint: "mailto:x@example.com", From: from},
		"no from":             {},
		"from not an address": {From: "jetmon"},
		"negative timeout":    {From: from, Timeout: -time.Second},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := email.New(o); err == nil {
				t.Error("New accepted invalid opts")
			}
		})
	}
}
