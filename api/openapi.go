package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
)

// pathParamPattern finds {name} in a route pattern.
var pathParamPattern = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPIDocument builds the OpenAPI 3.1 document from the route table.
func (s *Server) openAPIDocument() (OpenAPIDocument, error) {
	g := newSchemaGen()
	paths := map[string]map[string]any{}
	for i := range s.table {
		rt := &s.table[i]
		op, err := operation(g, rt)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", rt.method, rt.pattern, err)
		}
		path := apiPrefix + rt.pattern
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.method)] = op
	}
	if _, err := g.of(reflect.TypeFor[ErrorEnvelope]()); err != nil {
		return nil, err
	}
	tagList := make([]map[string]string, 0, len(tags()))
	for _, t := range tags() {
		tagList = append(tagList, map[string]string{"name": t})
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{"title": "Jetmon Mesh internal API", "version": "v1",
			"description": "The internal REST API of Jetmon Mesh, behind the gateway. See docs/api.md."},
		"servers":  []map[string]string{{"url": "/"}},
		"security": []map[string][]string{{"bearerAuth": {}}},
		"tags":     tagList,
		"paths":    paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{"bearerAuth": map[string]string{
				"type": "http", "scheme": "bearer", "bearerFormat": "jm_ API key"}},
			"headers":    headerComponents(),
			"parameters": gatewayParameters(),
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// operation is one route's operation object.
func operation(g *schemaGen, rt *route) (map[string]any, error) {
	op := map[string]any{"operationId": rt.operationID, "summary": rt.summary, "tags": []string{rt.tag},
		"parameters": parameters(rt)}
	if rt.scope == "" {
		op["security"] = []any{}
	} else {
		op["x-jetmon-required-scope"] = string(rt.scope)
	}
	if rt.idempotent {
		op["x-jetmon-idempotency-key"] = "optional"
	}
	if rt.ep.req != reflect.TypeFor[NoBody]() {
		body, err := g.of(rt.ep.req)
		if err != nil {
			return nil, err
		}
		op["requestBody"] = map[string]any{"required": !rt.bodyOptional,
			"content": map[string]any{"application/json": map[string]any{"schema": body}}}
	}
	responses, err := responses(g, rt)
	if err != nil {
		return nil, err
	}
	op["responses"] = responses
	return op, nil
}

func responses(g *schemaGen, rt *route) (map[string]any, error) {
	headers := map[string]any{"X-Request-ID": ref("headers", "X-Request-ID")}
	if rt.scope != "" {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			headers[h] = ref("headers", h)
		}
	}
	if rt.idempotent {
		headers[headerReplayed] = ref("headers", headerReplayed)
	}
	ok := map[string]any{"description": http.StatusText(rt.status), "headers": headers}
	if rt.ep.resp != reflect.TypeFor[NoContent]() {
		body, err := g.of(rt.ep.resp)
		if err != nil {
			return nil, err
		}
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": body}}
	}
	errBody := map[string]any{"description": "an error (see the code table in docs/api.md)", "headers": headers,
		"content": map[string]any{"application/json": map[string]any{"schema": ref("schemas", "ErrorEnvelope")}}}
	out := map[string]any{fmt.Sprint(rt.status): ok, "default": errBody}
	if rt.altStatus != 0 {
		alt := map[string]any{}
		for k, v := range ok {
			alt[k] = v
		}
		alt["description"] = http.StatusText(rt.altStatus)
		out[fmt.Sprint(rt.altStatus)] = alt
	}
	return out, nil
}

// parameters are the route's path, query and header parameters.
func parameters(rt *route) []any {
	out := []any{}
	for _, m := range pathParamPattern.FindAllStringSubmatch(rt.pattern, -1) {
		out = append(out, map[string]any{"name": m[1], "in": "path", "required": true,
			"description": "a positive integer (else 400 invalid_" + m[1] + ")",
			"schema":      schema{"type": "integer", "format": "int64", "minimum": 1}})
	}
	for _, p := range rt.query {
		out = append(out, map[string]any{"name": p.name, "in": "query", "required": false,
			"description": p.doc, "schema": p.schema()})
	}
	if rt.idempotent {
		out = append(out, map[string]any{"name": headerIdemKey, "in": "header", "required": false,
			"description": "replays the first response of the same request (scope: key, method, path; 24 h)",
			"schema":      schema{"type": "string", "maxLength": maxIdempotencyKey}})
	}
	if rt.scope != "" {
		for _, h := range gatewayHeaders() {
			out = append(out, ref("parameters", h))
		}
	}
	return out
}

// schema is a query parameter's schema.
func (p param) schema() schema {
	switch p.kind {
	case kindInt:
		return schema{"type": "integer"}
	case kindBool:
		return schema{"type": "string", "enum": []string{"true", "false", "1", "0"}}
	case kindTime:
		return schema{"type": "string", "format": "date-time"}
	case kindCSV:
		if len(p.enum) > 0 {
			return schema{"type": "string", "description": "comma-separated: " + strings.Join(p.enum, ", ")}
		}
		return schema{"type": "string"}
	case kindString:
	}
	if len(p.enum) > 0 {
		return schema{"type": "string", "enum": p.enum}
	}
	return schema{"type": "string"}
}

func ref(kind, name string) map[string]string {
	return map[string]string{"$ref": "#/components/" + kind + "/" + name}
}

func headerComponents() map[string]any {
	h := func(doc string, s schema) map[string]any { return map[string]any{"description": doc, "schema": s} }
	return map[string]any{
		"X-Request-ID":          h("the request id (the caller's, when sane, else 32 hex characters)", schema{"type": "string"}),
		"X-RateLimit-Limit":     h("the key's requests per minute", schema{"type": "integer"}),
		"X-RateLimit-Remaining": h("requests left in the bucket", schema{"type": "integer"}),
		"X-RateLimit-Reset":     h("unix time when the bucket is full again", schema{"type": "integer"}),
		headerReplayed:          h("true when the response is a replay of the first request with this Idempotency-Key", schema{"type": "string", "enum": []string{"true"}}),
	}
}

func gatewayParameters() map[string]any {
	docs := map[string]string{
		headerTenantID:         "gateway tenant (only the gateway key; with it, sites, webhooks and contacts are the tenant's)",
		headerActorID:          "gateway actor, recorded",
		headerPublicScopes:     "space-separated public scopes, recorded (required with tenant headers)",
		headerGatewayRequestID: "the gateway's request id (required with tenant headers)",
		headerPlan:             "the tenant's plan, recorded",
	}
	out := map[string]any{}
	for _, h := range gatewayHeaders() {
		out[h] = map[string]any{"name": h, "in": "header", "required": false, "description": docs[h],
			"schema": schema{"type": "string"}}
	}
	return out
}
