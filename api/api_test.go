package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jetmon-mesh/jetmon/api"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	srv, err := api.New(api.Opts{Addr: "127.0.0.1:0", Version: "v1.2.3", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		method, path string
		status       int
		field, want  string
	}{
		"health":        {http.MethodGet, "/api/v1/health", 200, "version", "v1.2.3"},
		"unknown route": {http.MethodGet, "/api/v1/nope", 404, "", ""},
		"wrong method":  {http.MethodPost, "/api/v1/health", 405, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if tc.field != "" && body[tc.field] != tc.want {
				t.Errorf("%s = %v, want %q", tc.field, body[tc.field], tc.want)
			}
		})
	}
	if n := testutil.CollectAndCount(reg, "jetmon_api_requests_total"); n != 3 {
		t.Errorf("request counter series = %d, want 3", n)
	}
}
