package check_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// chunks writes each part as a separate flushed write, then waits for the
// client to go away if hold is set.
func chunks(contentType string, hold bool, parts ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		rc := http.NewResponseController(w)
		for _, p := range parts {
			_, _ = io.WriteString(w, p)
			_ = rc.Flush()
		}
		if hold {
			<-r.Context().Done()
		}
	})
}

// upgrade answers 101 and keeps the connection open until the test ends.
func upgrade(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes")
		_ = buf.Flush()
		<-t.Context().Done()
	})
}

func gzipped(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, s)
		_ = zw.Close()
	})
}

func TestCheckBody(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	c := newChecker(t, check.Opts{Timeout: timeout})
	big := strings.Repeat("a", 200<<10)
	tests := map[string]struct {
		handler   func(t *testing.T) http.Handler
		keyword   string
		forbidden []string
		want      uptime.ErrorCode
		success   bool
		rule      uptime.KeywordRule
		fast      bool // must return well before the timeout
	}{
		"keyword split across writes": {
			handler: func(*testing.T) http.Handler { return chunks("", false, "<p>jet", "mon up</p>") },
			keyword: "jetmon up", success: true,
		},
		"keyword after 64 KiB is still found": {
			handler: func(*testing.T) http.Handler { return body(big + "needle") }, keyword: "needle", success: true,
		},
		"keyword after 1 MiB is missing": {
			handler: func(*testing.T) http.Handler { return body(strings.Repeat("a", 1<<20) + "needle") },
			keyword: "needle", want: uptime.ErrorKeyword, rule: uptime.KeywordRequired,
		},
		"keyword is case-sensitive": {
			handler: func(*testing.T) http.Handler { return body("Jetmon") }, keyword: "jetmon",
			want: uptime.ErrorKeyword, rule: uptime.KeywordRequired,
		},
		"required rule is judged first": {
			handler: func(*testing.T) http.Handler { return body("spam") }, keyword: "ham", forbidden: []string{"spam"},
			want: uptime.ErrorKeyword, rule: uptime.KeywordRequired,
		},
		"forbidden keyword split across writes": {
			handler:   func(*testing.T) http.Handler { return chunks("", false, "ok casi", "no spam") },
			forbidden: []string{"", "casino"}, want: uptime.ErrorKeyword, rule: uptime.KeywordForbidden,
		},
		"no forbidden keyword present": {
			handler: func(*testing.T) http.Handler { return body("all good") }, forbidden: []string{"casino", "hacked"},
			success: true,
		},
		"keyword in a gzip body": {
			handler: func(*testing.T) http.Handler { return gzipped("compressed needle") }, keyword: "needle", success: true,
		},
		"large body without rules reads only the limit": {
			handler: func(*testing.T) http.Handler { return chunks("", true, big) }, success: true, fast: true,
		},
		"event stream is not read": {
			handler: func(*testing.T) http.Handler { return chunks("text/event-stream; charset=utf-8", true, "data: 1\n\n") },
			success: true, fast: true,
		},
		"event stream read until the keyword": {
			handler: func(*testing.T) http.Handler { return chunks("text/event-stream", true, "data: ready\n\n") },
			keyword: "ready", success: true, fast: true,
		},
		"event stream read until a forbidden keyword": {
			handler:   func(*testing.T) http.Handler { return chunks("text/event-stream", true, "data: hacked\n\n") },
			forbidden: []string{"hacked"}, want: uptime.ErrorKeyword, rule: uptime.KeywordForbidden, fast: true,
		},
		"event stream without the keyword times out": {
			handler: func(*testing.T) http.Handler { return chunks("text/event-stream", true, "data: 1\n\n") },
			keyword: "ready", want: uptime.ErrorTimeout,
		},
		"upgrade response is not read": {handler: upgrade, success: true, fast: true},
		"body stalls past the deadline": {
			handler: func(*testing.T) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", "100")
					chunks("", true, "partial").ServeHTTP(w, r)
				})
			},
			want: uptime.ErrorTimeout,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tt.handler(t))
			res := c.Check(t.Context(), uptime.CheckSpec{URL: srv.URL, Keyword: tt.keyword, ForbiddenKeywords: tt.forbidden})
			assertDurations(t, res)
			if res.ErrorCode != tt.want || res.Success != tt.success || res.KeywordRule != tt.rule {
				t.Errorf("got code %v success %v rule %q, want %v %v %q",
					res.ErrorCode, res.Success, res.KeywordRule, tt.want, tt.success, tt.rule)
			}
			if elapsed := time.Since(res.CheckedAt); tt.fast && elapsed > timeout/2 {
				t.Errorf("check took %v, want well under the %v timeout", elapsed, timeout)
			}
		})
	}
}
