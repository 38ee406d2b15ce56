package apistore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/api"
)

// AuditEventAPIAccess is jetmon_audit_log.event_type of API calls.
const AuditEventAPIAccess = "api_access"

// Limits of the jetmon_audit_log text columns.
const (
	maxAuditSource = 255
	maxAuditDetail = 1024
	maxAuditField  = 512 // any one metadata string
)

// accessMetadata is the metadata JSON of one API call: identifiers and
// outcome only, never a token, secret, destination, body or query string.
type accessMetadata struct {
	KeyID      int64  `json:"key_id"`
	Consumer   string `json:"consumer"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Route      string `json:"route,omitempty"`
	Status     int    `json:"status"`
	DurationMs int64  `json:"duration_ms"`
	RequestID  string `json:"request_id"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	Note       string `json:"note,omitempty"`
	TenantID   string `json:"tenant_id,omitempty"`
}

// RecordAccess writes one api_access row: source is the consumer ("unknown"
// without a key), detail "METHOD /path". A query string in rec.Path is cut
// off (it could carry anything) and long values are truncated.
func (s *Store) RecordAccess(ctx context.Context, rec api.AccessRecord) error {
	consumer := rec.Consumer
	if consumer == "" {
		consumer = "unknown"
	}
	path, _, _ := strings.Cut(rec.Path, "?")
	md := accessMetadata{
		KeyID: rec.KeyID, Consumer: clip(consumer, maxAuditField), Method: clip(rec.Method, maxAuditField),
		Path: clip(path, maxAuditField), Route: clip(rec.Route, maxAuditField), Status: rec.Status,
		DurationMs: rec.Duration.Milliseconds(), RequestID: clip(rec.RequestID, maxAuditField),
		RemoteAddr: clip(rec.Remote, maxAuditField), Note: clip(rec.Note, maxAuditField),
		TenantID: clip(string(rec.Tenant), maxAuditField),
	}
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("record api access: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO jetmon_audit_log (event_type, source, detail, metadata) VALUES (?, ?, ?, ?)`,
		AuditEventAPIAccess, clip(consumer, maxAuditSource), clip(md.Method+" "+md.Path, maxAuditDetail), b)
	if err != nil {
		return fmt.Errorf("record api access: %w", err)
	}
	return nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
