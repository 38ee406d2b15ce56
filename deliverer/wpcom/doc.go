// Package wpcom sends the legacy WPCOM status-change notification (Jetmon
// v1's payload, unchanged on the wire) behind a circuit breaker: after
// consecutive failures it stops sending and answers *uptime.DeferredError,
// so the notification waits in JetStream instead of in memory, and nothing
// is queued or dropped here.
//
// It imports only the standard library, uptime,
// github.com/sony/gobreaker/v2 and the shared deliverer/internal/httpsend.
// It must not import the deliverer package, another transport, the
// module's internal/*, nats.go or a SQL driver.
package wpcom
