package jetmoncmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestAPIDemoLines runs the demo's printed curl lines, as printed, against
// an API with the demo's sites: with curl when it is installed, else by
// reading the line as a shell would.
func TestAPIDemoLines(t *testing.T) {
	t.Parallel()
	w := newAPIWorld(t)
	for i := range 5 {
		w.addSite(int64(demoFirstBlogID+i), fmt.Sprintf("https://demo%d.example/", i))
	}
	ev := w.openEvent(demoDownBlogID, uptime.StateDown)
	c := w.apiServer("api-demo", "", nil)
	first, err := ensureDemoAPIKey(t.Context(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	token, err := ensureDemoAPIKey(t.Context(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.do(http.MethodGet, "/me", first, nil); r.status != 401 || r.errorCode() != "token_revoked" {
		t.Fatalf("the previous run's demo key: %d %s; want it revoked", r.status, r.body)
	}
	store, err := apistore.New(w.db, apistore.Opts{})
	if err != nil {
		t.Fatal(err)
	}
	if key, err := store.KeyByHash(t.Context(), uptime.HashAPIToken(token)); err != nil || key.Scope != uptime.ScopeAdmin {
		t.Fatalf("demo key %+v, %v; want an admin key", key, err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(c.base, "http://"), "/api/v1")
	lines := demoCurlLines(addr, token, "http://127.0.0.1:9/it's-a-hook")
	var outputs []string
	for _, line := range lines {
		if strings.HasPrefix(line, "#") {
			continue
		}
		outputs = append(outputs, runCurlLine(t, c.http, line))
	}
	if len(outputs) != 3 {
		t.Fatalf("%d curl lines in %q", len(outputs), lines)
	}
	var sites page
	if err := json.Unmarshal([]byte(outputs[0]), &sites); err != nil || len(sites.Data) != 5 {
		t.Fatalf("list sites printed %s (%v)", outputs[0], err)
	}
	var events page
	if err := json.Unmarshal([]byte(outputs[1]), &events); err != nil || len(events.Data) != 1 || events.Data[0].ID != ev {
		t.Fatalf("events of the down site printed %s (%v)", outputs[1], err)
	}
	var hook struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(outputs[2]), &hook); err != nil || hook.URL != "http://127.0.0.1:9/it's-a-hook" ||
		!strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("register webhook printed %s (%v)", outputs[2], err)
	}
}

// runCurlLine runs one printed curl line and returns its output.
func runCurlLine(t *testing.T, client *http.Client, line string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.CommandContext(t.Context(), "sh", "-c", line).Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return string(out)
	}
	args := shellWords(t, line)
	if args[0] != "curl" {
		t.Fatalf("%s: not a curl line", line)
	}
	method, url := http.MethodGet, ""
	var body io.Reader
	header := http.Header{}
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-sS":
		case "-X":
			i++
			method = args[i]
		case "-H":
			i++
			name, value, _ := strings.Cut(args[i], ": ")
			header.Set(name, value)
		case "-d":
			i++
			body = bytes.NewReader([]byte(args[i]))
		default:
			url = args[i]
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// shellWords splits a line of words and single-quoted strings (with '\”
// escapes) as a POSIX shell would.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(line); i++ {
		switch ch := line[i]; {
		case ch == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				t.Fatalf("%s: unterminated quote", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
