package testsite_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/testsite"
)

// control sends one control API request and returns status and body.
func control(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := client(5*time.Second, nil, nil).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, url, err)
	}
	return resp.StatusCode, string(data)
}

func TestControlFlipsBehaviourAtRuntime(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{})
	site := f.ControlURL() + "sites/blog"
	steps := []struct {
		name       string
		method     string
		body       string
		wantCtl    int
		wantSite   int
		wantInList bool
	}{
		{"initially ok", http.MethodGet, "", 200, 200, false},
		{"set 503", http.MethodPut, `{"behaviour":"status","status":503}`, 200, 503, true},
		{"set slow", http.MethodPut, `{"behaviour":"slow","delay_ms":20,"status":201}`, 200, 201, true},
		{"reset", http.MethodDelete, "", 204, 200, false},
		{"set by client", http.MethodPut, `{"behaviour":"by_client","clients":{"127.0.0.1":418}}`, 200, 418, true},
		{"set by client with delay", http.MethodPut, `{"behaviour":"by_client","status":202,"delay_ms":20}`, 200, 202, true},
		{"reset all", http.MethodDelete, "", 204, 200, false},
	}
	for _, s := range steps {
		url := site
		if s.name == "reset all" {
			url = f.ControlURL() + "sites"
		}
		if code, body := control(t, s.method, url, s.body); code != s.wantCtl {
			t.Fatalf("%s: control answered %d %s, want %d", s.name, code, body, s.wantCtl)
		}
		if r := get(t, f.URL("blog")); r.code != s.wantSite {
			t.Errorf("%s: site answered %d (%v), want %d", s.name, r.code, r.err, s.wantSite)
		}
		_, list := control(t, http.MethodGet, f.ControlURL()+"sites", "")
		var got struct {
			Sites map[string]json.RawMessage `json:"sites"`
		}
		if err := json.Unmarshal([]byte(list), &got); err != nil {
			t.Fatalf("%s: list %q: %v", s.name, list, err)
		}
		if _, ok := got.Sites["blog"]; ok != s.wantInList {
			t.Errorf("%s: blog listed %v, want %v (list %s)", s.name, ok, s.wantInList, list)
		}
	}
}

func TestControlGetAndCA(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{})
	mustSet(t, f, "news", testsite.Behaviour{Kind: testsite.KindSlow, Delay: 1500 * time.Millisecond})
	code, body := control(t, http.MethodGet, f.ControlURL()+"sites/NEWS.test", "")
	want := `{"behaviour":"slow","delay_ms":1500,"site":"news","status":200}`
	if code != 200 || compact(t, body) != want {
		t.Errorf("got %d %s, want 200 %s", code, body, want)
	}
	if code, body := control(t, http.MethodGet, f.ControlURL()+"ca.pem", ""); code != 200 || body != string(f.CAPEM()) {
		t.Errorf("ca.pem: got %d %q", code, body)
	}
	code, body = control(t, http.MethodGet, f.ControlURL(), "")
	var info testsite.Info
	if err := json.Unmarshal([]byte(body), &info); err != nil || code != 200 || info.Addr != f.Addr() {
		t.Errorf("info: got %d %s (%v), want addr %s", code, body, err, f.Addr())
	}
}

func TestControlRejects(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{})
	tests := map[string]struct {
		method, path, body string
		want               int
	}{
		"unknown field":      {http.MethodPut, "sites/a", `{"behaviour":"ok","colour":"red"}`, 400},
		"unknown behaviour":  {http.MethodPut, "sites/a", `{"behaviour":"explode"}`, 400},
		"status range":       {http.MethodPut, "sites/a", `{"behaviour":"status","status":42}`, 400},
		"slow without delay": {http.MethodPut, "sites/a", `{"behaviour":"slow"}`, 400},
		"bad client":         {http.MethodPut, "sites/a", `{"behaviour":"by_client","clients":{"x":200}}`, 400},
		"trailing data":      {http.MethodPut, "sites/a", `{"behaviour":"ok"} {}`, 400},
		"not json":           {http.MethodPut, "sites/a", `status 503`, 400},
		"bad site name":      {http.MethodPut, "sites/a%20b", `{"behaviour":"ok"}`, 400},
		"wrong method":       {http.MethodPost, "sites/a", `{"behaviour":"ok"}`, 405},
		"unknown endpoint":   {http.MethodGet, "nope", "", 404},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if code, body := control(t, tt.method, f.ControlURL()+tt.path, tt.body); code != tt.want {
				t.Errorf("got %d %s, want %d", code, body, tt.want)
			}
		})
	}
	if _, ok := f.Sites()["a"]; ok {
		t.Errorf("a rejected PUT changed site a: %+v", f.Sites()["a"])
	}
}

func TestSeparateControlAddr(t *testing.T) {
	t.Parallel()
	f := start(t, testsite.Opts{ControlAddr: "127.0.0.1:0"})
	if strings.Contains(f.ControlURL(), f.Addr()) {
		t.Fatalf("control URL %s is on the main listener %s", f.ControlURL(), f.Addr())
	}
	if code, body := control(t, http.MethodPut, f.ControlURL()+"sites/x", `{"behaviour":"status","status":500}`); code != 200 {
		t.Fatalf("PUT on control addr: %d %s", code, body)
	}
	if r := get(t, f.URL("x")); r.code != 500 {
		t.Errorf("site x: got %d, want 500", r.code)
	}
	// On the main listener /_control/ is an ordinary site path.
	r := get(t, "http://"+f.Addr()+"/_control/sites")
	if r.code != 200 || r.header.Get("X-Testsite-Behaviour") != "ok" {
		t.Errorf("main /_control/sites: got %d %v, want the ok site page", r.code, r.header)
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("json %q: %v", s, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(out)
}
