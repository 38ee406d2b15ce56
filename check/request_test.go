package check_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/check"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// methodRecorder records request methods, then delegates to onHead for HEAD
// and answers 200 for anything else.
type methodRecorder struct {
	mu      sync.Mutex
	methods []string
	onHead  http.Handler
}

func (m *methodRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.methods = append(m.methods, r.Method)
	m.mu.Unlock()
	if r.Method == http.MethodHead {
		m.onHead.ServeHTTP(w, r)
		return
	}
	okHandler().ServeHTTP(w, r)
}

func (m *methodRecorder) seen() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.methods...)
}

// Jetmon v1 probed with HEAD and misjudged sites that mishandle it. Checks
// always GET, so such sites are healthy.
func TestCheckAlwaysGETs(t *testing.T) {
	t.Parallel()
	c := newChecker(t, check.Opts{Timeout: 2 * time.Second})
	tests := map[string]http.Handler{
		"HEAD answers 405": status(http.StatusMethodNotAllowed),
		"HEAD hangs":       blockUntilDone(),
	}
	for name, onHead := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &methodRecorder{onHead: onHead}
			res := c.Check(t.Context(), uptime.CheckSpec{URL: newServer(t, rec).URL})
			if !res.Success || res.HTTPCode != 200 || res.Method != http.MethodGet {
				t.Errorf("got success %v http %d method %q, want healthy GET", res.Success, res.HTTPCode, res.Method)
			}
			if got := rec.seen(); len(got) != 1 || got[0] != http.MethodGet {
				t.Errorf("server saw methods %v, want [GET]", got)
			}
		})
	}
}

func TestCheckRequestHeaders(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts     check.Opts
		headers  map[string]string
		wantUA   string
		wantHost string // empty: the URL's host
		wantX    string
	}{
		"default user agent": {wantUA: check.DefaultUserAgent},
		"configured user agent": {
			opts: check.Opts{UserAgent: "probe/1"}, wantUA: "probe/1",
		},
		"custom headers override the user agent": {
			headers: map[string]string{"user-agent": "custom/2", "X-Site": "42"}, wantUA: "custom/2", wantX: "42",
		},
		"host header sets the request host": {
			headers: map[string]string{"Host": "vhost.example"}, wantUA: check.DefaultUserAgent, wantHost: "vhost.example",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := make(chan *http.Request, 1)
			srv := newServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got <- r }))
			res := newChecker(t, tt.opts).Check(t.Context(), uptime.CheckSpec{URL: srv.URL, Headers: tt.headers})
			if !res.Success {
				t.Fatalf("check failed: %+v", res)
			}
			r := <-got
			wantHost := tt.wantHost
			if wantHost == "" {
				wantHost = srv.Listener.Addr().String()
			}
			if r.UserAgent() != tt.wantUA || r.Host != wantHost || r.Header.Get("X-Site") != tt.wantX {
				t.Errorf("got UA %q host %q X-Site %q, want %q %q %q",
					r.UserAgent(), r.Host, r.Header.Get("X-Site"), tt.wantUA, wantHost, tt.wantX)
			}
		})
	}
}

func TestCheckRedirectPolicies(t *testing.T) {
	t.Parallel()
	c := newChecker(t, check.Opts{Timeout: 5 * time.Second})
	tests := map[string]struct {
		path      string
		policy    uptime.RedirectPolicy
		want      uptime.ErrorCode
		success   bool
		changed   bool
		finalPath string
		wantHTTP  int
	}{
		"no redirect under alert":  {path: "/0", policy: uptime.RedirectAlert, success: true, finalPath: "/0", wantHTTP: 200},
		"empty policy follows":     {path: "/3", success: true, finalPath: "/0", wantHTTP: 200},
		"follow 3 hops":            {path: "/3", policy: uptime.RedirectFollow, success: true, finalPath: "/0", wantHTTP: 200},
		"follow exactly 10 hops":   {path: "/10", policy: uptime.RedirectFollow, success: true, finalPath: "/0", wantHTTP: 200},
		"follow 11 hops fails":     {path: "/11", policy: uptime.RedirectFollow, want: uptime.ErrorRedirect, finalPath: "/1", wantHTTP: 302},
		"alert records the change": {path: "/2", policy: uptime.RedirectAlert, success: true, changed: true, finalPath: "/0", wantHTTP: 200},
		"alert 11 hops fails":      {path: "/11", policy: uptime.RedirectAlert, want: uptime.ErrorRedirect, changed: true, finalPath: "/1", wantHTTP: 302},
		"fail on first redirect":   {path: "/1", policy: uptime.RedirectFail, want: uptime.ErrorRedirect, finalPath: "/1", wantHTTP: 302},
		"fail without redirect":    {path: "/0", policy: uptime.RedirectFail, success: true, finalPath: "/0", wantHTTP: 200},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, redirectChain())
			res := c.Check(t.Context(), uptime.CheckSpec{URL: srv.URL + tt.path, RedirectPolicy: tt.policy})
			if res.ErrorCode != tt.want || res.Success != tt.success || res.HTTPCode != tt.wantHTTP {
				t.Errorf("got code %v success %v http %d, want %v %v %d",
					res.ErrorCode, res.Success, res.HTTPCode, tt.want, tt.success, tt.wantHTTP)
			}
			if res.RedirectChanged != tt.changed || res.FinalURL != srv.URL+tt.finalPath {
				t.Errorf("got changed %v final %q, want %v %q", res.RedirectChanged, res.FinalURL, tt.changed, srv.URL+tt.finalPath)
			}
		})
	}
}
