package check

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// maxHeaderBytes bounds a response's header block.
const maxHeaderBytes = 1 << 20

// Checker runs checks. It is safe for concurrent use; all checks share one
// bounded transport that opens a fresh connection per check.
type Checker struct {
	timeout   time.Duration
	userAgent string
	now       func() time.Time
	tls       *tlsPolicy
	transport *http.Transport
	buffers   *sync.Pool // of *[]byte of readChunkBytes, for body reading
}

// New validates o and builds the Checker's shared transport. It reads the
// CA bundle file, if any, and does no other I/O.
func New(o Opts) (*Checker, error) {
	s, err := o.settings()
	if err != nil {
		return nil, fmt.Errorf("check opts: %w", err)
	}
	policy := newTLSPolicy(s)
	d := newDialer(s, policy)
	return &Checker{
		timeout:   s.timeout,
		userAgent: s.userAgent,
		now:       s.now,
		tls:       policy,
		buffers: &sync.Pool{New: func() any {
			b := make([]byte, readChunkBytes)
			return &b
		}},
		transport: &http.Transport{
			Proxy:                  nil, // a monitor talks to the site itself
			DialContext:            d.dial,
			DialTLSContext:         d.dialTLS,
			DisableKeepAlives:      true, // fresh DNS/TCP/TLS, measured, on every check
			MaxResponseHeaderBytes: maxHeaderBytes,
		},
	}, nil
}

// Check runs spec once and returns its result; it never returns an error.
//
// The request is always a GET. The spec's timeout (else Opts.Timeout)
// bounds everything: waiting for a connection slot, DNS, connect, TLS,
// redirects and the body. A spec that fails ValidateSpec yields
// ErrorConnect without any network activity. Durations are never negative:
// a phase that did not complete reports zero. RTT covers the request and
// all redirect hops, not the body.
func (c *Checker) Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result {
	res := uptime.Result{BlogID: spec.BlogID, URL: spec.URL, Method: http.MethodGet, CheckedAt: c.now()}
	p, err := newPlan(spec, c.timeout)
	if err != nil {
		res.ErrorCode = uptime.ErrorConnect
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	tr := &tracer{}
	ctx = withDialDeadline(httptrace.WithClientTrace(ctx, tr.hooks()))
	req, err := c.newRequest(ctx, p, spec.Headers)
	if err != nil {
		res.ErrorCode = uptime.ErrorConnect
		return res
	}
	redirs := &redirects{policy: p.policy}
	// No Client.Timeout: ctx's deadline bounds the body read too.
	client := &http.Client{Transport: c.transport, CheckRedirect: redirs.check}
	start := time.Now()
	resp, err := client.Do(req)
	res.RTT = time.Since(start)
	res.RedirectChanged = redirs.changed()
	if resp != nil {
		res.HTTPCode = resp.StatusCode
		res.FinalURL = resp.Request.URL.Redacted()
	}
	if err != nil {
		c.tls.inspect(&res, tr.tlsState()) // facts only: the failure decides the code
		if expiry := expiryFromError(err); expiry != nil {
			res.SSLExpiry = expiry
		}
		res.ErrorCode = classify(ctx, err, tr.handshakeFailed())
	} else {
		c.judge(ctx, &res, resp, p)
		_ = resp.Body.Close()
	}
	tr.record(&res)
	return res
}

// newRequest builds the GET: the default User-Agent, then the spec's
// headers, which may override it. A "Host" header sets the request's host.
func (c *Checker) newRequest(ctx context.Context, p plan, headers map[string]string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url.String(), http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	for name, value := range headers {
		if http.CanonicalHeaderKey(name) == "Host" {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	return req, nil
}

// judge evaluates a response, in order: an expired certificate fails the
// check; a status of 400 or more fails it without reading the body; then
// the body's verdict (keyword rules, truncation, timeout); then success is
// a status in 1..399, with ErrorTLSDeprecated as an advisory code.
func (c *Checker) judge(ctx context.Context, res *uptime.Result, resp *http.Response, p plan) {
	verdict := c.tls.inspect(res, resp.TLS)
	if verdict == uptime.ErrorTLSExpired || resp.StatusCode >= http.StatusBadRequest {
		res.ErrorCode = verdict
		return
	}
	code, rule := c.judgeBody(ctx, resp, p)
	if code != uptime.ErrorNone {
		res.ErrorCode, res.KeywordRule = code, rule
		return
	}
	res.ErrorCode = verdict
	res.Success = resp.StatusCode >= 1 && resp.StatusCode <= 399
}
