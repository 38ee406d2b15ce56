// Package api is Jetmon Mesh's internal REST API (behind a gateway): a chi
// router built from a declarative route table, its middleware and handlers.
// It reads through interfaces it declares and asks the coordinator for any
// change of incident state; it never writes incident state itself.
//
// It must not import another role, internal/*, nats.go or the MySQL driver.
package api
