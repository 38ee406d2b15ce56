package slack

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// readLimit is how much of a response body is read; at most
// uptime.MaxResponseBytes of it is kept.
const readLimit = 4 << 10

// newClient builds a client of its own (never http.DefaultClient) with
// connect and handshake timeouts under the overall timeout. It does not
// follow redirects: a 3xx is the receiver's answer, and following it would
// turn the POST into a body-less GET (301-303) or carry the payload to
// another host.
func newClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: 5 * time.Second,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 10,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends req and returns what the receiver answered, whatever its
// status. Only a transport error is an error; its SendResult is empty.
func post(client *http.Client, req *http.Request) (uptime.SendResult, error) {
	resp, err := client.Do(req)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("post: %w", withoutURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	// The status is the answer; a body cut short still leaves what was read.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	return uptime.SendResult{StatusCode: resp.StatusCode, Response: responseText(raw)}, nil
}

// withoutURL is err without the *url.Error wrapper that quotes the URL: a
// URL may carry a token, and errors end up in logs and delivery rows.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// responseText is raw as valid UTF-8 (invalid bytes replaced), cut to at
// most uptime.MaxResponseBytes without splitting a rune.
func responseText(raw []byte) string {
	s := strings.ToValidUTF8(string(raw), string(utf8.RuneError))
	if len(s) <= uptime.MaxResponseBytes {
		return s
	}
	cut := uptime.MaxResponseBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
