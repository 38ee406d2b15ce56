package veriflier

import (
	"context"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Server delivers the vote requests of one region (internal/bus:
// VerifyServer on jetmon.verify.<region>, one queue group per region).
type Server interface {
	// ServeVerify calls handle for every request for region until ctx ends,
	// then returns after running handlers returned. handle's ctx ends with
	// serving; an error from handle sends no vote, and the asking
	// coordinator counts the region as silent.
	ServeVerify(ctx context.Context, region string, handle func(ctx context.Context, spec uptime.CheckSpec) (uptime.Vote, error)) error
}

// Checker runs one check (package check).
type Checker interface {
	Check(ctx context.Context, spec uptime.CheckSpec) uptime.Result
}
