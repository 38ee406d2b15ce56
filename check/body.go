package check

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Body limits. The body is read (to detect truncation) but never held: it
// streams through a pooled buffer and the keyword scanner.
const (
	maxBodyBytes    = 64 << 10 // read without keyword rules
	maxKeywordBytes = 1 << 20  // read when keyword rules need the body
	readChunkBytes  = 32 << 10
)

// judgeBody reads the body of a response with a status below 400 and
// returns its verdict: ErrorNone, ErrorKeyword with the broken rule,
// ErrorBodyRead (truncated or unreadable) or ErrorTimeout (the deadline
// passed while reading).
//
// Streams (101 Switching Protocols, an Upgrade header, text/event-stream)
// never end, so they are not read at all unless keyword rules need them;
// then they are read until the verdict is decided, the byte limit or the
// deadline. Other bodies are read to EOF or the byte limit.
func (c *Checker) judgeBody(ctx context.Context, resp *http.Response, p plan) (uptime.ErrorCode, uptime.KeywordRule) {
	rules := newContentRules(p.required, p.forbidden)
	stream := isStream(resp)
	if stream && rules == nil {
		return uptime.ErrorNone, ""
	}
	limit := int64(maxBodyBytes)
	if rules != nil {
		limit = maxKeywordBytes
	}
	n, err := c.readBody(resp.Body, limit, rules, stream)
	switch {
	case err != nil && (isTimeout(err) || ctx.Err() != nil):
		return uptime.ErrorTimeout, ""
	case err != nil:
		return uptime.ErrorBodyRead, ""
	case !stream && resp.ContentLength >= 0 && n < min(resp.ContentLength, limit):
		return uptime.ErrorBodyRead, ""
	}
	if rule, failed := rules.failed(); failed {
		return uptime.ErrorKeyword, rule
	}
	return uptime.ErrorNone, ""
}

// readBody reads up to limit bytes of body through rules and returns how
// many it read. io.EOF is not an error; io.ErrUnexpectedEOF (a body shorter
// than its Content-Length, or a cut chunked body) is.
func (c *Checker) readBody(body io.Reader, limit int64, rules *contentRules, stream bool) (int64, error) {
	bp := c.buffers.Get().(*[]byte) //nolint:forcetypeassert // the pool holds only *[]byte
	defer c.buffers.Put(bp)
	buf := *bp
	var n int64
	for n < limit {
		m, err := body.Read(buf[:min(int64(len(buf)), limit-n)])
		n += int64(m)
		rules.scan(buf[:m])
		switch {
		case err == io.EOF:
			return n, nil
		case err != nil:
			return n, err
		case stream && rules.decided():
			return n, nil
		}
	}
	return n, nil
}

// isStream reports a response whose body may never end.
func isStream(resp *http.Response) bool {
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "" {
		return true
	}
	mediaType, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "text/event-stream")
}
