// Package deliverer sends notifications: it fans each incident transition out
// to its destinations (webhooks, alert contacts, legacy WPCOM) and dispatches
// the resulting jobs with durable retries, recording every attempt.
//
// Transports live in subpackages and satisfy this package's interfaces
// implicitly. It must not import another role, its transports, internal/*,
// nats.go or the MySQL driver.
package deliverer
