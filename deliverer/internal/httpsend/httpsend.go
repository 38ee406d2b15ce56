package httpsend

import (
	"bytes"
	"context"
	"encoding/json"
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

// NewClient builds a client of its own (never http.DefaultClient) with
// connect and handshake timeouts under the overall timeout. It does not
// follow redirects: a 3xx is the receiver's answer, and following it would
// turn the POST into a body-less GET (301-303) or carry the payload to
// another host.
func NewClient(timeout time.Duration) *http.Client {
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

// NewPost is a POST of body to target with Content-Type application/json
// and userAgent. Its error does not carry the URL.
func NewPost(ctx context.Context, target, userAgent string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", WithoutURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// Post sends req and returns what the receiver answered, whatever its
// status. Only a transport error is an error (without the URL); its
// SendResult is empty.
func Post(client *http.Client, req *http.Request) (uptime.SendResult, error) {
	resp, err := client.Do(req)
	if err != nil {
		return uptime.SendResult{}, fmt.Errorf("post: %w", WithoutURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	// The status is the answer; a body cut short still leaves what was read.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	return uptime.SendResult{StatusCode: resp.StatusCode, Response: ResponseText(raw)}, nil
}

// WithoutURL is err without the *url.Error wrapper that quotes the URL: a
// URL may carry a token, and errors end up in logs and delivery rows.
func WithoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// ResponseText is raw as valid UTF-8 (invalid bytes replaced), cut to at
// most uptime.MaxResponseBytes without splitting a rune.
func ResponseText(raw []byte) string {
	return Clip(strings.ToValidUTF8(string(raw), string(utf8.RuneError)), uptime.MaxResponseBytes)
}

// Clip cuts s to at most n bytes without splitting a rune.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// EncodeJSON is v as compact JSON with <, > and & left as they are (they
// are data here, not HTML), so bodies stay readable on the wire.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
