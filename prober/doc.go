// Package prober is the regional checking role: it watches its bucket
// assignment and the sites of its buckets, checks each site on its own smooth
// schedule with the check package, and publishes every result.
//
// It holds no database connection. It must not import another role,
// internal/*, nats.go or the MySQL driver.
package prober
