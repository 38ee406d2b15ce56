// Package api is Jetmon Mesh's internal REST API, behind a gateway: a chi
// router built from one declarative route table (routes.go), which also
// generates the OpenAPI 3.1 document served at /api/v1/openapi.json; the
// middleware chain (request id, auth, rate limit, gateway tenant,
// idempotency, audit); and the handlers.
//
// It reads and writes through the ports it declares (ports.go) and asks the
// coordinator for every change of incident state (close, trigger-now,
// pause, delete): it never writes events, transitions or the legacy
// projection itself. Errors map to statuses through one table (errors.go).
//
// It must not import another role, internal/*, nats.go or the MySQL driver.
package api
