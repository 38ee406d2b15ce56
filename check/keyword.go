package check

import (
	"bytes"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// keywordScanner finds several keywords in a stream written in chunks of any
// size. It keeps the last len(longest keyword)-1 bytes seen, so a keyword
// spanning a chunk boundary is found, without holding the whole body.
// Matching is case-sensitive and byte-exact, like bytes.Contains. An empty
// keyword is found at once.
type keywordScanner struct {
	keywords [][]byte
	found    []bool
	pending  int    // keywords not found yet
	keep     int    // bytes of context carried between chunks
	carry    []byte // the last keep bytes seen
	window   []byte // scratch: carry followed by the head of the next chunk
}

func newKeywordScanner(keywords []string) *keywordScanner {
	s := &keywordScanner{keywords: make([][]byte, len(keywords)), found: make([]bool, len(keywords))}
	for i, k := range keywords {
		s.keywords[i] = []byte(k)
		if k == "" {
			s.found[i] = true
			continue
		}
		s.pending++
		s.keep = max(s.keep, len(k)-1)
	}
	s.carry = make([]byte, 0, s.keep)
	s.window = make([]byte, 0, 2*s.keep)
	return s
}

// Write scans p as the continuation of everything written before. It never
// fails.
func (s *keywordScanner) Write(p []byte) (int, error) {
	if s.pending == 0 || len(p) == 0 {
		return len(p), nil
	}
	if len(s.carry) > 0 {
		s.window = append(append(s.window[:0], s.carry...), p[:min(len(p), s.keep)]...)
		s.search(s.window)
	}
	s.search(p)
	s.remember(p)
	return len(p), nil
}

// Found reports whether keyword i has been seen.
func (s *keywordScanner) Found(i int) bool { return s.found[i] }

func (s *keywordScanner) search(b []byte) {
	for i, k := range s.keywords {
		if !s.found[i] && bytes.Contains(b, k) {
			s.found[i] = true
			s.pending--
		}
	}
}

// remember updates carry to the last keep bytes of carry followed by p.
func (s *keywordScanner) remember(p []byte) {
	if len(p) >= s.keep {
		s.carry = append(s.carry[:0], p[len(p)-s.keep:]...)
		return
	}
	drop := max(len(s.carry)+len(p)-s.keep, 0)
	s.carry = append(s.carry[:copy(s.carry, s.carry[drop:])], p...)
}

// contentRules are a check's keyword rules over the body: the required
// keyword (if any) is keyword 0 of the scanner, forbidden keywords follow.
// A nil *contentRules means the check has none.
type contentRules struct {
	scanner  *keywordScanner
	required bool
}

func newContentRules(required string, forbidden []string) *contentRules {
	if required == "" && len(forbidden) == 0 {
		return nil
	}
	keywords := make([]string, 0, 1+len(forbidden))
	if required != "" {
		keywords = append(keywords, required)
	}
	keywords = append(keywords, forbidden...)
	return &contentRules{scanner: newKeywordScanner(keywords), required: required != ""}
}

func (r *contentRules) scan(p []byte) {
	if r != nil {
		_, _ = r.scanner.Write(p)
	}
}

func (r *contentRules) requiredSeen() bool {
	return !r.required || r.scanner.Found(0)
}

// firstForbidden is the scanner index of the first forbidden keyword.
func (r *contentRules) firstForbidden() int {
	if r.required {
		return 1
	}
	return 0
}

func (r *contentRules) forbiddenSeen() bool {
	for i := r.firstForbidden(); i < len(r.scanner.keywords); i++ {
		if r.scanner.Found(i) {
			return true
		}
	}
	return false
}

// decided reports whether more body cannot change the verdict.
func (r *contentRules) decided() bool {
	hasForbidden := len(r.scanner.keywords) > r.firstForbidden()
	return r.requiredSeen() && (!hasForbidden || r.forbiddenSeen())
}

// failed returns the rule the body broke, the required one first.
func (r *contentRules) failed() (uptime.KeywordRule, bool) {
	switch {
	case r == nil:
		return "", false
	case !r.requiredSeen():
		return uptime.KeywordRequired, true
	case r.forbiddenSeen():
		return uptime.KeywordForbidden, true
	default:
		return "", false
	}
}
