// Package veriflier answers confirmation requests from the coordinator: it
// checks a site from its own region with the check package and returns a vote.
// It has no schedule and no state.
//
// It must not import another role, internal/*, nats.go or the MySQL driver.
package veriflier
