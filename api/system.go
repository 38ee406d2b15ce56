package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

const pingTimeout = time.Second

// HealthResponse is GET /health's answer when every dependency answers.
type HealthResponse struct {
	Status  string `json:"status" enum:"ok"`
	DB      string `json:"db" enum:"ok"`
	NATS    string `json:"nats" enum:"ok"`
	Version string `json:"version"`
}

// health is GET /health (no auth): 503 db_unavailable when the database
// handle is missing or does not answer within a second, nats_unavailable
// likewise.
func (s *Server) health(r *http.Request, _ *NoBody) (HealthResponse, error) {
	checks := []struct {
		p    Pinger
		code ErrorCode
		name string
	}{{s.opts.DB, codeDBUnavailable, "database"}, {s.opts.NATS, codeNATSUnavailable, "NATS"}}
	for _, c := range checks {
		if c.p == nil {
			return HealthResponse{}, errf(c.code, "no %s handle is configured", c.name)
		}
		ctx, cancel := context.WithTimeout(r.Context(), pingTimeout)
		err := c.p.Ping(ctx)
		cancel()
		if err != nil {
			return HealthResponse{}, &apiError{code: c.code, msg: c.name + " does not answer", cause: err}
		}
	}
	return HealthResponse{Status: "ok", DB: "ok", NATS: "ok", Version: s.opts.Version}, nil
}

// MeResponse describes the calling key.
type MeResponse struct {
	KeyID              int64        `json:"key_id"`
	ConsumerName       string       `json:"consumer_name"`
	Scope              uptime.Scope `json:"scope"`
	RateLimitPerMinute int          `json:"rate_limit_per_minute"`
	ExpiresAt          *time.Time   `json:"expires_at"`
	RevokesAt          *time.Time   `json:"revokes_at" doc:"a rotation's grace window ends then"`
	CreatedAt          time.Time    `json:"created_at"`
}

// me is GET /me.
func (s *Server) me(r *http.Request, _ *NoBody) (MeResponse, error) {
	k := callOf(r).key
	return MeResponse{KeyID: k.ID, ConsumerName: k.Consumer, Scope: k.Scope, RateLimitPerMinute: perMinute(k),
		ExpiresAt: timePtr(k.ExpiresAt), RevokesAt: timePtr(k.RevokedAt), CreatedAt: utc(k.CreatedAt)}, nil
}

// MeshResponse is the mesh's state as NATS shows it.
type MeshResponse struct {
	Leader             *MeshLeader    `json:"leader" doc:"null without a leader"`
	Epoch              uint64         `json:"epoch" doc:"the leader's epoch, stamped on assignments and commands; 0 without a leader"`
	ProbersByRegion    map[string]int `json:"probers_by_region"`
	VerifliersByRegion map[string]int `json:"verifliers_by_region"`
	UnassignedBuckets  []BucketRange  `json:"unassigned_buckets" doc:"rollout buckets no live prober owns"`
	ResultsBacklog     uint64         `json:"results_backlog" doc:"results the coordinator has not consumed"`
	Errors             []string       `json:"errors" doc:"parts of the mesh that could not be read"`
}

// MeshLeader is the coordinator leader.
type MeshLeader struct {
	NodeID string `json:"node_id"`
	Region string `json:"region"`
}

// BucketRange is an inclusive range of buckets.
type BucketRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// mesh is GET /mesh.
func (s *Server) mesh(r *http.Request, _ *NoBody) (MeshResponse, error) {
	v, err := s.opts.Mesh.MeshView(r.Context())
	if err != nil {
		return MeshResponse{}, &apiError{code: codeNATSUnavailable, msg: "the mesh state could not be read", cause: err}
	}
	out := MeshResponse{Epoch: v.Epoch, ProbersByRegion: cloneCounts(v.ProbersByRegion),
		VerifliersByRegion: cloneCounts(v.VerifliersByRegion), UnassignedBuckets: make([]BucketRange, 0, len(v.Unassigned)),
		ResultsBacklog: v.ResultsBacklog, Errors: nonNil(slices.Clone(v.Errors))}
	if v.LeaderNodeID != "" {
		out.Leader = &MeshLeader{NodeID: v.LeaderNodeID, Region: v.LeaderRegion}
	}
	for _, b := range v.Unassigned {
		out.UnassignedBuckets = append(out.UnassignedBuckets, BucketRange{Min: b.Min, Max: b.Max})
	}
	return out, nil
}

func cloneCounts(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return maps.Clone(m)
}

// OpenAPIDocument is the OpenAPI 3.1 document of this API, built once by
// New from the route table.
type OpenAPIDocument []byte

// MarshalJSON writes the document as it is.
func (d OpenAPIDocument) MarshalJSON() ([]byte, error) { return d, nil }

// openAPI is GET /openapi.json.
func (s *Server) openAPI(_ *http.Request, _ *NoBody) (OpenAPIDocument, error) {
	return s.document, nil
}
