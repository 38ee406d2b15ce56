// Package veriflier is the veriflier role: it answers the coordinator's
// confirmation requests for its region with a vote, from the same HTTP
// checker the probers use. It has no schedule, no state, no listener and no
// token: requests reach it only over NATS, through the Server of ports.go
// (internal/bus implements it on jetmon.verify.<region>, one queue group per
// region).
//
// It must not import another role, internal/*, nats.go or the MySQL driver.
package veriflier
