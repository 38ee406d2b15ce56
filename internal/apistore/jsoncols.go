package apistore

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// The JSON columns, as the migrations define them: forbidden_keywords and
// jetmon_webhooks.events are arrays of strings, custom_headers and
// jetmon_alert_contacts.destination objects of strings, site_filter
// {"site_ids": [...]}, state_filter {"states": [...]}. An empty list or map
// is stored as NULL (match everything, no headers).

// siteFilter is the site_filter column.
type siteFilter struct {
	SiteIDs []int64 `json:"site_ids"`
}

// stateFilter is jetmon_webhooks.state_filter.
type stateFilter struct {
	States []uptime.State `json:"states"`
}

// isNull reports whether a JSON column holds SQL NULL, nothing, or JSON null.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || bytes.Equal(b, []byte("null"))
}

// jsonOrNull encodes v for a JSON column, NULL when empty is true.
func jsonOrNull(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json column: %w", err)
	}
	return b, nil
}

// stringsColumn encodes a string list (NULL when empty).
func stringsColumn(v []string) (any, error) { return jsonOrNull(v, len(v) == 0) }

// mapColumn encodes a string map (NULL when empty).
func mapColumn(v map[string]string) (any, error) { return jsonOrNull(v, len(v) == 0) }

// siteFilterColumn encodes site ids as {"site_ids": [...]} (NULL when empty).
func siteFilterColumn(ids []int64) (any, error) {
	return jsonOrNull(siteFilter{SiteIDs: ids}, len(ids) == 0)
}

// stateFilterColumn encodes states as {"states": [...]} (NULL when empty).
func stateFilterColumn(states []uptime.State) (any, error) {
	return jsonOrNull(stateFilter{States: states}, len(states) == 0)
}

// decodeJSON decodes a nullable JSON column into v; ok is false when it
// holds something of another shape (v is then left empty).
func decodeJSON(b []byte, v any) (ok bool) {
	if isNull(b) {
		return true
	}
	return json.Unmarshal(b, v) == nil
}

// decodeStrings decodes a string-list column.
func decodeStrings(b []byte) ([]string, bool) {
	var v []string
	if !decodeJSON(b, &v) {
		return nil, false
	}
	if len(v) == 0 {
		return nil, true
	}
	return v, true
}

// decodeMap decodes a string-map column.
func decodeMap(b []byte) (map[string]string, bool) {
	var v map[string]string
	if !decodeJSON(b, &v) {
		return nil, false
	}
	if len(v) == 0 {
		return nil, true
	}
	return v, true
}

// decodeSiteFilter decodes a site_filter column.
func decodeSiteFilter(b []byte) ([]int64, bool) {
	var v siteFilter
	if !decodeJSON(b, &v) {
		return nil, false
	}
	if len(v.SiteIDs) == 0 {
		return nil, true
	}
	return v.SiteIDs, true
}

// decodeStateFilter decodes a state_filter column.
func decodeStateFilter(b []byte) ([]uptime.State, bool) {
	var v stateFilter
	if !decodeJSON(b, &v) {
		return nil, false
	}
	if len(v.States) == 0 {
		return nil, true
	}
	return v.States, true
}

// decodeObject decodes a metadata column (any JSON object); nil when NULL
// or not an object.
func decodeObject(b []byte) (map[string]any, bool) {
	var v map[string]any
	if !decodeJSON(b, &v) {
		return nil, false
	}
	return v, true
}

// warnColumn logs a column value that could not be decoded.
func (s *Store) warnColumn(table, column string, id int64) {
	s.logger.Warn("undecodable column value replaced by an empty one", "component", "apistore",
		"table", table, "column", column, "row_id", id)
}
