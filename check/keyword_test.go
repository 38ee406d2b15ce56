package check

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// scanChunks writes body to a scanner for keywords in chunks of the given
// sizes (cycled; a size of 0 writes an empty chunk).
func scanChunks(keywords []string, body []byte, sizes []int) *keywordScanner {
	s := newKeywordScanner(keywords)
	for i := 0; len(body) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(body))
		_, _ = s.Write(body[:n])
		body = body[n:]
	}
	return s
}

func TestKeywordScanner(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		keywords []string
		body     string
		sizes    []int
		want     []bool
	}{
		"whole body in one chunk":      {[]string{"up", "down"}, "site is up", []int{64}, []bool{true, false}},
		"keyword split across chunks":  {[]string{"jetmon"}, "hello jetmon", []int{8}, []bool{true}},
		"one byte at a time":           {[]string{"needle", "hay"}, "haystack needle", []int{1}, []bool{true, true}},
		"keyword spans three chunks":   {[]string{"abcdefgh"}, "xxabcdefghxx", []int{4, 1, 2}, []bool{true}},
		"empty chunks are harmless":    {[]string{"ab"}, "xaby", []int{0, 1, 0, 2}, []bool{true}},
		"case-sensitive":               {[]string{"Jetmon"}, "jetmon", []int{3}, []bool{false}},
		"empty keyword always found":   {[]string{"", "zz"}, "abc", []int{2}, []bool{true, false}},
		"prefix at end is not a match": {[]string{"needle"}, "xxxneed", []int{3}, []bool{false}},
		"short and long keywords":      {[]string{"a", strings.Repeat("b", 40)}, "c" + strings.Repeat("b", 40), []int{7}, []bool{false, true}},
		"keyword longer than body":     {[]string{"longer than the body"}, "short", []int{1}, []bool{false}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := scanChunks(tt.keywords, []byte(tt.body), tt.sizes)
			for i, want := range tt.want {
				if got := s.Found(i); got != want {
					t.Errorf("Found(%q) = %v, want %v", tt.keywords[i], got, want)
				}
			}
		})
	}
}

func TestContentRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		required   string
		forbidden  []string
		body       string
		wantRule   uptime.KeywordRule
		wantFailed bool
		decided    bool
	}{
		"required found":                   {required: "ok", body: "all ok", decided: true},
		"required missing":                 {required: "ok", body: "down", wantRule: uptime.KeywordRequired, wantFailed: true},
		"forbidden found":                  {forbidden: []string{"hacked"}, body: "hacked!", wantRule: uptime.KeywordForbidden, wantFailed: true, decided: true},
		"forbidden absent is undecided":    {forbidden: []string{"hacked"}, body: "fine"},
		"required first":                   {required: "ok", forbidden: []string{"bad"}, body: "bad", wantRule: uptime.KeywordRequired, wantFailed: true},
		"required found, forbidden too":    {required: "ok", forbidden: []string{"bad"}, body: "ok bad", wantRule: uptime.KeywordForbidden, wantFailed: true, decided: true},
		"required found, forbidden absent": {required: "ok", forbidden: []string{"bad"}, body: "ok"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newContentRules(tt.required, tt.forbidden)
			r.scan([]byte(tt.body))
			rule, failed := r.failed()
			if rule != tt.wantRule || failed != tt.wantFailed || r.decided() != tt.decided {
				t.Errorf("got rule %q failed %v decided %v, want %q %v %v",
					rule, failed, r.decided(), tt.wantRule, tt.wantFailed, tt.decided)
			}
		})
	}
	if rule, failed := (*contentRules)(nil).failed(); failed || rule != "" {
		t.Errorf("nil rules failed: %q %v", rule, failed)
	}
}

// FuzzKeywordScanner checks the streaming scanner against bytes.Contains on
// the whole body, for random bodies, keywords and chunkings.
func FuzzKeywordScanner(f *testing.F) {
	f.Add([]byte("hello jetmon world"), []byte("jetmon"), []byte("xyz"), []byte{3, 1, 4})
	f.Add([]byte("aaaaab"), []byte("aab"), []byte("b"), []byte{1})
	f.Add([]byte("abcabcabd"), []byte("abcabd"), []byte(""), []byte{2, 5})
	f.Add([]byte(""), []byte("x"), []byte("y"), []byte{})
	f.Fuzz(func(t *testing.T, body, kw1, kw2, cuts []byte) {
		sizes := make([]int, 0, len(cuts)+1)
		for _, c := range cuts {
			sizes = append(sizes, int(c%17)+1) // chunks of 1..17 bytes
		}
		if len(sizes) == 0 {
			sizes = append(sizes, len(body)+1)
		}
		keywords := []string{string(kw1), string(kw2)}
		s := scanChunks(keywords, body, sizes)
		for i, k := range keywords {
			if got, want := s.Found(i), bytes.Contains(body, []byte(k)); got != want {
				t.Fatalf("Found(%q) in %q with chunks %v = %v, want %v", k, body, sizes, got, want)
			}
		}
	})
}
