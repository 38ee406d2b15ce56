package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// encodeJSON is v as compact JSON with <, > and & left as they are (they
// are data here, not HTML), so bodies stay readable on the wire.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
