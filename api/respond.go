package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

const contentTypeJSON = "application/json; charset=utf-8"

// writeJSON writes v with status; nil v writes no body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Response types are plain data: this is a programming error.
		w.Header().Set("Content-Type", contentTypeJSON)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"error":{"code":"internal_error","message":"encode response","request_id":""}}`+"\n")
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// body reads the request body once, capped at MaxBodyBytes (413 beyond).
func (s *Server) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	c := callOf(r)
	if c.bodyRead {
		return c.body, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.Limits.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errf(codeBodyTooLarge, "the body exceeds %d bytes", s.opts.Limits.MaxBodyBytes)
		}
		return nil, errf(codeInvalidBody, "the body could not be read")
	}
	c.body, c.bodyRead = b, true
	return b, nil
}

// decodeStrict decodes exactly one JSON object of v's struct type from b,
// field by field so that every failure names its field: unknown or
// duplicate keys (matched exactly, not case-insensitively), unknown nested
// fields, type mismatches, null for a field that cannot be null and
// trailing data are invalid_body. Empty b is invalid_body unless optional.
func decodeStrict(b []byte, v any, optional bool) error {
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return errf(codeInvalidBody, "a JSON body is required")
	}
	rv := reflect.ValueOf(v).Elem()
	fields := fieldIndex(rv.Type())
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errf(codeInvalidBody, "the body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errf(codeInvalidBody, "the body is not valid JSON")
		}
		key, _ := tok.(string)
		idx, known := fields[key]
		switch {
		case !known:
			return fieldErr(codeInvalidBody, key, "unknown field")
		case seen[key]:
			return fieldErr(codeInvalidBody, key, "duplicate field")
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errf(codeInvalidBody, "the body is not valid JSON")
		}
		if err := decodeField(raw, rv.FieldByIndex(idx)); err != nil {
			return fieldDecodeError(key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return errf(codeInvalidBody, "the body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errf(codeInvalidBody, "unexpected data after the JSON object")
	}
	return nil
}

// errNull is a null for a field that cannot be null.
var errNull = errors.New("must not be null")

// decodeField decodes raw into the settable field f.
func decodeField(raw json.RawMessage, f reflect.Value) error {
	if string(raw) == "null" {
		switch f.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		default:
			if _, ok := f.Addr().Interface().(json.Unmarshaler); !ok {
				return errNull
			}
		}
	}
	return strictUnmarshal(raw, f.Addr().Interface())
}

// strictUnmarshal is json.Unmarshal with unknown fields rejected.
func strictUnmarshal(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// fieldDecodeError names key (and the nested field, when known) in a
// decode failure.
func fieldDecodeError(key string, err error) error {
	if errors.Is(err, errNull) {
		return fieldErr(codeInvalidBody, key, "must not be null")
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := key
		if te.Field != "" {
			field = key + "." + te.Field
		}
		return fieldErr(codeInvalidBody, field, "must be %s", jsonKind(te.Type))
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "decode: "), "json: ")
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fieldErr(codeInvalidBody, key+"."+strings.Trim(name, `"`), "unknown field")
	}
	return fieldErr(codeInvalidBody, key, "invalid value: %s", msg)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return "a " + t.Kind().String()
	}
}

// fieldIndex maps t's JSON field names to their field indexes.
func fieldIndex(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if name, _, ok := jsonName(f); ok {
			out[name] = f.Index
		}
	}
	return out
}

// jsonName is f's JSON name and whether it has omitempty; ok is false for
// unexported or skipped fields.
func jsonName(f reflect.StructField) (name string, omitempty, ok bool) {
	if !f.IsExported() || f.Anonymous {
		return "", false, false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(","+opts+",", ",omitempty,"), true
}

// utc is t in UTC, truncated to the database's millisecond precision.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// timePtr is utc(t), or nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// nonNil returns s, or an empty slice for nil (JSON [] rather than null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Nullable is a PATCH field: absent (Set false), null (Null true) or a value.
type Nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present, and whether it was null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(bytes.TrimSpace(b)) == "null" {
		n.Null = true
		return nil
	}
	return strictUnmarshal(b, &n.Value)
}
