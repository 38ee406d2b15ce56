package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Command reply error codes. Handlers choose a code by returning an error
// that is a *CommandError or has a `Code() string` method; any other error
// is CodeInternal.
const (
	CodeBadRequest  = "bad_request"  // the payload was not understood
	CodeNotFound    = "not_found"    // the command names something that does not exist
	CodeUnknownVerb = "unknown_verb" // no handler for the verb
	CodeUnavailable = "unavailable"  // the server is stopping; retry
	CodeInternal    = "internal"     // the handler failed
)

// CommandError is the error of a command reply that says ok=false. It is
// returned by the clients of this package for such replies.
type CommandError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "<code>: <message>".
func (e *CommandError) Error() string { return e.Code + ": " + e.Message }

// commandReplyWire is the reply envelope of every request/reply exchange:
// {"v":1,"ok":true,"data":...} or {"v":1,"ok":false,"error":{"code","message"}}.
type commandReplyWire struct {
	V     int             `json:"v"`
	OK    *bool           `json:"ok"`
	Error *CommandError   `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

const kindCommandReply = "command reply"

// EncodeCommandReply encodes a successful reply carrying data (JSON, or nil
// for none) when cerr is nil, else a failed reply with cerr.
func EncodeCommandReply(data []byte, cerr *CommandError) ([]byte, error) {
	ok := cerr == nil
	w := commandReplyWire{V: WireVersion, OK: &ok, Error: cerr}
	if ok {
		w.Data = data
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode command reply: %w", err)
	}
	return b, nil
}

// DecodeCommandReply decodes a reply envelope and returns its data (nil when
// absent). A reply with ok=false returns a *CommandError; an undecodable one
// an error wrapping ErrMalformed.
func DecodeCommandReply(data []byte) ([]byte, error) {
	var w commandReplyWire
	if err := unmarshal(kindCommandReply, data, &w, &w.V); err != nil {
		return nil, err
	}
	if w.OK == nil {
		return nil, malformed(kindCommandReply, "missing field %q", "ok")
	}
	if !*w.OK {
		if w.Error == nil || w.Error.Code == "" {
			return nil, malformed(kindCommandReply, "ok=false without error code")
		}
		return nil, w.Error
	}
	return w.Data, nil
}

// commandErrorOf maps a handler error to a reply error: the error's own
// *CommandError, or its code when it has a `Code() string` method, else
// CodeInternal.
func commandErrorOf(err error) *CommandError {
	if ce, ok := errors.AsType[*CommandError](err); ok {
		return ce
	}
	var coded interface{ Code() string }
	if errors.As(err, &coded) && coded.Code() != "" {
		// The reply carries the code on its own; a message that starts with
		// it would read "code: code: ..." once CommandError formats it.
		return &CommandError{Code: coded.Code(), Message: strings.TrimPrefix(err.Error(), coded.Code()+": ")}
	}
	return &CommandError{Code: CodeInternal, Message: err.Error()}
}
