// Package bus is the NATS contract of Jetmon Mesh: subject, stream, consumer
// and KV names (names.go), versioned JSON wire messages with their conversion
// to and from uptime types (wire*.go), idempotent creation of every stream,
// consumer and KV bucket, and the adapters that satisfy the roles' own
// interfaces over nats.go.
//
// It imports uptime and nats.go; it must not import a role, internal/sqlstore
// or nats-server. docs/nats.md documents every name here.
package bus
