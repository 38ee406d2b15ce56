package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// loadDocument fetches the document over the API and loads it with
// libopenapi.
func loadDocument(t *testing.T, h *harness) (libopenapi.Document, []byte) {
	t.Helper()
	r := must(t, h.get("/api/v1/openapi.json", tokRead), 200)
	doc, err := libopenapi.NewDocument(r.body)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	return doc, r.body
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	doc, _ := loadDocument(t, h)
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s (%s)", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason)
			}
		}
	}
}

func TestOpenAPIDocumentsEveryRouteAndOnlyRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	doc, _ := loadDocument(t, h)
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // "METHOD path" → operationId
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = op.OperationId
		}
	}
	routed := map[string]bool{}
	err = chi.Walk(h.srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range routed {
		if _, ok := documented[key]; !ok {
			t.Errorf("%s is routed but not documented", key)
		}
	}
	for key, id := range documented {
		if !routed[key] {
			t.Errorf("%s (%s) is documented but not routed", key, id)
		}
	}
	if len(routed) != len(h.srv.table) {
		t.Errorf("routed %d, table %d", len(routed), len(h.srv.table))
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, raw := loadDocument(t, h)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	refs := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if !resolves(doc, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if refs < 50 {
		t.Errorf("only %d $refs: the walk is broken", refs)
	}
}

func resolves(doc map[string]any, ref string) bool {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPISchemas pins the reflection rules.
func TestOpenAPISchemas(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, raw := loadDocument(t, h)
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	for _, name := range []string{"Site", "SiteDetail", "SiteList", "CreateSiteRequest", "UpdateSiteRequest", "Event",
		"EventDetail", "Transition", "Confirmation", "Vote", "Webhook", "WebhookWithSecret", "AlertContact",
		"WebhookDeliveryList", "AlertDeliveryList", "ErrorEnvelope", "State", "SeverityName", "AlertTransport",
		"WebhookEventType", "DeliveryStatus", "ErrorCode", "MeshResponse", "OpenAPIDocument"} {
		if schemas[name] == nil {
			t.Errorf("schema %s missing", name)
		}
	}
	site := schemas["Site"]["properties"].(map[string]any)
	if _, leak := site["cliBatch"]; leak {
		t.Error("an unexported field leaked into Site")
	}
	if got := site["active_event_id"].(map[string]any)["type"]; !slices.Equal(toStrings(got), []string{"integer", "null"}) {
		t.Errorf("a pointer must be nullable: active_event_id type = %v", got)
	}
	create := schemas["CreateSiteRequest"]
	if req := toStrings(create["required"]); !slices.Equal(req, []string{"blog_id", "monitor_url"}) {
		t.Errorf("omitempty must be optional: required = %v", req)
	}
	if create["additionalProperties"] != false {
		t.Error("request objects must forbid unknown properties")
	}
	codes := toStrings(schemas["ErrorCode"]["enum"])
	if len(codes) != len(errorTable()) || !slices.Contains(codes, "idempotency_in_progress") {
		t.Errorf("ErrorCode enum = %v", codes)
	}
	params := doc.Paths["/api/v1/sites"]["get"]["parameters"].([]any)
	names := []string{}
	for _, p := range params {
		if m, ok := p.(map[string]any); ok && m["name"] != nil {
			names = append(names, m["name"].(string))
		}
	}
	for _, want := range []string{"limit", "cursor", "state", "monitor_active", "q"} {
		if !slices.Contains(names, want) {
			t.Errorf("listSites does not document query parameter %s (has %v)", want, names)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}
