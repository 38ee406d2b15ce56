package api

import (
	"net/http"
	"strings"
)

// Gateway tenant context (reference §7): only the key whose consumer is
// "gateway" may send these headers; with them, site routes see only the
// tenant's sites and webhooks/contacts only the tenant's rows.
const (
	gatewayConsumer        = "gateway"
	headerTenantID         = "X-Jetmon-Tenant-ID"
	headerActorID          = "X-Jetmon-Actor-ID"
	headerPublicScopes     = "X-Jetmon-Public-Scopes"
	headerGatewayRequestID = "X-Jetmon-Gateway-Request-ID"
	headerPlan             = "X-Jetmon-Plan"
	maxGatewayHeader       = 128
)

func gatewayHeaders() []string {
	return []string{headerTenantID, headerActorID, headerPublicScopes, headerGatewayRequestID, headerPlan}
}

// tenantContext parses the gateway headers into the call's tenant.
func (s *Server) tenantContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, err := parseGateway(r.Header, callOf(r).key.Consumer)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		callOf(r).tenant = tenant
		next.ServeHTTP(w, r)
	})
}

// parseGateway returns the tenant of the headers ("" without any).
func parseGateway(h http.Header, consumer string) (Tenant, error) {
	present := false
	for _, name := range gatewayHeaders() {
		if strings.TrimSpace(h.Get(name)) != "" {
			present = true
		}
	}
	if !present {
		return "", nil
	}
	if consumer != gatewayConsumer {
		return "", errf(codeForbiddenGateway, "only the %q key may send gateway tenant headers", gatewayConsumer)
	}
	for _, name := range gatewayHeaders() {
		v := h.Get(name)
		required := name == headerTenantID || name == headerGatewayRequestID || name == headerPublicScopes
		switch {
		case required && strings.TrimSpace(v) == "":
			return "", fieldErr(codeInvalidGateway, name, "required with gateway tenant headers")
		case len(v) > maxGatewayHeader && name != headerPublicScopes, len(v) > 4*maxGatewayHeader:
			return "", fieldErr(codeInvalidGateway, name, "too long")
		case !printable(v):
			return "", fieldErr(codeInvalidGateway, name, "must be printable ASCII")
		}
	}
	return Tenant(strings.TrimSpace(h.Get(headerTenantID))), nil
}

// printable reports whether v is printable ASCII (space included).
func printable(v string) bool {
	for i := range len(v) {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
