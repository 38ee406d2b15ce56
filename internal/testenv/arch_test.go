package testenv_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/jetmon-mesh/jetmon"

// listed is the part of `go list -json` the rules read.
type listed struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
	Standard   bool
}

// rule forbids packages under from (module-relative, "" for exact root
// match not used) to depend on anything under the forbidden prefixes.
type rule struct {
	name string
	// from are module-relative package paths; a trailing "/..." matches
	// subpackages, and a leading "!" exempts the packages it matches.
	from []string
	// forbid are import path prefixes (module-relative when they start
	// with "./"); a leading "!" allows what it matches.
	forbid     []string
	transitive bool // check Deps (everything linked) rather than direct Imports
}

var (
	roles       = []string{"coordinator/...", "prober/...", "veriflier/...", "deliverer/...", "api/..."}
	thirdParty  = []string{"github.com/nats-io/", "github.com/go-sql-driver/", "github.com/go-chi/", "github.com/prometheus/"}
	forbidInAll = []string{"./internal/testenv"}
)

// rules is DESIGN §6 as data.
func rules() []rule {
	rs := []rule{
		{"uptime is stdlib only", []string{"uptime/..."}, []string{"github.com/", "golang.org/"}, true},
		{"check imports no NATS, SQL, chi or Prometheus", []string{"check/..."}, thirdParty, true},
		{"incident imports no NATS, SQL, chi or Prometheus", []string{"incident/..."}, thirdParty, true},
		{"uptime, check and incident import no role or adapter", []string{"uptime/...", "check/...", "incident/..."},
			append([]string{"./internal/"}, prefixed(roles)...), true},
		{"jetmon-agent links neither the MySQL driver, nor nats-server, nor chi", []string{"cmd/jetmon-agent"},
			[]string{"github.com/go-sql-driver/mysql", "github.com/nats-io/nats-server/", "github.com/go-chi/chi/"}, true},
		{"internal/testenv is for tests only", []string{"..."}, forbidInAll, false},
		// The single writer of incident state is built only by the coordinator's wiring.
		{"internal/eventstore is imported only by internal/jetmoncmd",
			[]string{"...", "!internal/jetmoncmd", "!internal/eventstore/..."}, []string{"./internal/eventstore"}, false},
	}
	for _, role := range roles {
		others := prefixed(slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return r == role }))
		rs = append(rs,
			rule{"role " + strings.TrimSuffix(role, "/...") + " imports no other role", []string{role}, others, true},
			rule{"role " + strings.TrimSuffix(role, "/...") + " imports no adapter, nats.go or MySQL driver", []string{role},
				[]string{"./internal/", "github.com/nats-io/", "github.com/go-sql-driver/"}, false},
		)
	}
	// The deliverer's transports satisfy its interfaces implicitly. What
	// they share lives in deliverer/internal/... (plumbing and test support,
	// not a transport; not the module's ./internal/ either).
	transport := []string{"deliverer/*", "!deliverer/internal/..."}
	notDelivererNorTransport := []string{"./deliverer", "!./deliverer/internal/"}
	rs = append(rs,
		rule{"deliverer imports none of its transports", []string{"deliverer"}, []string{"./deliverer/"}, true},
		rule{"a deliverer transport imports neither the deliverer nor another transport", transport,
			notDelivererNorTransport, true},
		rule{"deliverer/internal imports neither the deliverer nor a transport", []string{"deliverer/internal/..."},
			notDelivererNorTransport, true},
		rule{"deliverer/internal links only the standard library, uptime and deliverer/internal",
			[]string{"deliverer/internal/..."}, []string{"github.com/", "golang.org/", "!./uptime", "!./deliverer/internal/"}, true},
		rule{"deliverer/internal/transporttest is for tests only", []string{"..."},
			[]string{"./deliverer/internal/transporttest"}, false},
	)
	return rs
}

func prefixed(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = "./" + strings.TrimSuffix(p, "...")
	}
	return out
}

// inScope reports whether rel matches a pattern of from and no "!" pattern.
func inScope(from []string, rel string) bool {
	in := false
	for _, f := range from {
		if except, ok := strings.CutPrefix(f, "!"); ok {
			if matches(except, rel) {
				return false
			}
		} else if matches(f, rel) {
			in = true
		}
	}
	return in
}

func matches(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/*"); ok {
		return strings.HasPrefix(rel, base+"/")
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// forbids reports whether a prefix of forbid matches dep and no "!" one does.
func forbids(forbid []string, dep string) bool {
	hit := false
	for _, f := range forbid {
		if allow, ok := strings.CutPrefix(f, "!"); ok {
			if forbidden(allow, dep) {
				return false
			}
		} else if forbidden(f, dep) {
			hit = true
		}
	}
	return hit
}

func forbidden(prefix, dep string) bool {
	if rel, ok := strings.CutPrefix(prefix, "./"); ok {
		full := module + "/" + strings.TrimSuffix(rel, "/")
		return dep == full || strings.HasPrefix(dep, full+"/")
	}
	return strings.HasPrefix(dep, prefix)
}

// violations applies the rules to a package graph.
func violations(pkgs []listed, rs []rule) []string {
	var out []string
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok || p.Standard {
			continue
		}
		for _, r := range rs {
			if !inScope(r.from, rel) {
				continue
			}
			deps := p.Imports
			if r.transitive {
				deps = p.Deps
			}
			for _, dep := range deps {
				if dep == p.ImportPath {
					continue
				}
				if forbids(r.forbid, dep) {
					out = append(out, fmt.Sprintf("%s: %s depends on %s", r.name, p.ImportPath, dep))
				}
			}
		}
	}
	return out
}

func goList(t *testing.T) []listed {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	pkgs := goList(t)
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	for _, must := range []string{"uptime", "check", "coordinator", "prober", "veriflier", "deliverer", "api", "cmd/jetmon", "cmd/jetmon-agent"} {
		if !seen[must] {
			t.Errorf("package %s is missing from the module: the rules would pass vacuously", must)
		}
	}
	for _, v := range violations(pkgs, rules()) {
		t.Error(v)
	}
	wiring := slices.IndexFunc(pkgs, func(p listed) bool { return p.ImportPath == module+"/internal/jetmoncmd" })
	if wiring < 0 {
		t.Fatal("internal/jetmoncmd is missing from the module")
	}
	// Of internal/jetmoncmd, which wires every role, only the coordinator's
	// incident adapters may build the event store: the package rule above
	// cannot tell the package's files apart.
	if got := importingFiles(t, pkgs[wiring], module+"/internal/eventstore"); !slices.Equal(got, []string{"incidents.go"}) {
		t.Errorf("internal/jetmoncmd files importing internal/eventstore: %v, want only incidents.go", got)
	}
}

// importingFiles lists p's non-test files that import dep.
func importingFiles(t *testing.T, p listed, dep string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, imp := range f.Imports {
			if path, err := strconv.Unquote(imp.Path.Value); err == nil && path == dep {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestArchitectureRulesCatch proves the rules fail on the graphs they forbid.
func TestArchitectureRulesCatch(t *testing.T) {
	t.Parallel()
	m := func(rel string) string { return module + "/" + rel }
	tests := map[string]struct {
		pkg  listed
		want string
	}{
		"role imports another role": {
			listed{ImportPath: m("prober"), Deps: []string{m("coordinator")}}, "role prober imports no other role"},
		"role links another role transitively": {
			listed{ImportPath: m("api"), Deps: []string{m("deliverer/webhook")}}, "role api imports no other role"},
		"role imports nats.go": {
			listed{ImportPath: m("veriflier"), Imports: []string{"github.com/nats-io/nats.go"}}, "imports no adapter"},
		"check links prometheus": {
			listed{ImportPath: m("check"), Deps: []string{"github.com/prometheus/client_golang/prometheus"}}, "check imports no NATS"},
		"agent links the mysql driver": {
			listed{ImportPath: m("cmd/jetmon-agent"), Deps: []string{"github.com/go-sql-driver/mysql"}}, "jetmon-agent links neither"},
		"production code imports testenv": {
			listed{ImportPath: m("internal/bus"), Imports: []string{m("internal/testenv")}}, "internal/testenv is for tests only"},
		"uptime imports a module": {
			listed{ImportPath: m("uptime"), Deps: []string{"golang.org/x/net/idna"}}, "uptime is stdlib only"},
		"transport imports the deliverer": {
			listed{ImportPath: m("deliverer/slack"), Deps: []string{m("deliverer")}}, "a deliverer transport imports neither"},
		"transport imports another transport": {
			listed{ImportPath: m("deliverer/teams"), Deps: []string{m("deliverer/internal/httpsend"), m("deliverer/slack")}},
			"a deliverer transport imports neither"},
		"transport links the deliverer through another transport": {
			listed{ImportPath: m("deliverer/pagerduty"), Deps: []string{m("deliverer/webhook"), m("deliverer")}},
			"a deliverer transport imports neither"},
		"shared plumbing imports a transport": {
			listed{ImportPath: m("deliverer/internal/httpsend"), Deps: []string{m("deliverer/webhook")}},
			"deliverer/internal imports neither"},
		"shared test support imports the deliverer": {
			listed{ImportPath: m("deliverer/internal/transporttest"), Deps: []string{m("deliverer")}},
			"deliverer/internal imports neither"},
		"shared plumbing links a module": {
			listed{ImportPath: m("deliverer/internal/httpsend"), Deps: []string{"golang.org/x/net/http2"}},
			"deliverer/internal links only the standard library"},
		"production code imports transporttest": {
			listed{ImportPath: m("deliverer/webhook"), Imports: []string{m("deliverer/internal/transporttest")}},
			"deliverer/internal/transporttest is for tests only"},
		"transport imports the module's internal": {
			listed{ImportPath: m("deliverer/slack"), Imports: []string{m("internal/deliverystore")}}, "imports no adapter"},
		"shared plumbing imports nats.go": {
			listed{ImportPath: m("deliverer/internal/httpsend"), Imports: []string{"github.com/nats-io/nats.go"}},
			"imports no adapter"},
		"deliverer imports a transport": {
			listed{ImportPath: m("deliverer"), Deps: []string{m("deliverer/webhook")}}, "deliverer imports none of its transports"},
		"a role imports the event store": {
			listed{ImportPath: m("api"), Imports: []string{m("internal/eventstore")}}, "internal/eventstore is imported only by"},
		"an adapter imports the event store": {
			listed{ImportPath: m("internal/meshstatus"), Imports: []string{m("internal/eventstore")}},
			"internal/eventstore is imported only by"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := violations([]listed{tc.pkg}, rules())
			if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tc.want) }) {
				t.Errorf("violations = %q, want one containing %q", got, tc.want)
			}
		})
	}
	allowed := []listed{
		{ImportPath: m("prober"), Deps: []string{m("uptime"), m("check"), "github.com/prometheus/client_golang/prometheus"}},
		{ImportPath: m("internal/jetmoncmd"), Imports: []string{m("internal/eventstore"), m("internal/sqlstore")}},
		{ImportPath: m("cmd/jetmon"), Imports: []string{m("internal/jetmoncmd")}, Deps: []string{m("internal/eventstore")}},
		{ImportPath: m("deliverer/pagerduty"), Imports: []string{m("deliverer/internal/httpsend"), m("deliverer/internal/alerttext")},
			Deps: []string{m("deliverer/internal/httpsend"), m("deliverer/internal/alerttext"), m("uptime")}},
		{ImportPath: m("deliverer/slack"), Deps: []string{m("deliverer/internal/chathook"), m("deliverer/internal/httpsend")}},
		{ImportPath: m("deliverer/wpcom"), Deps: []string{m("deliverer/internal/httpsend"), "github.com/sony/gobreaker/v2"}},
		{ImportPath: m("deliverer/internal/httpsend"), Imports: []string{m("uptime")}, Deps: []string{m("uptime"), "net/http"}},
		{ImportPath: m("deliverer/internal/chathook"), Deps: []string{m("deliverer/internal/httpsend"), m("uptime")}},
		{ImportPath: m("deliverer/internal/transporttest"), Deps: []string{m("uptime"), "net/http/httptest"}},
	}
	if got := violations(allowed, rules()); len(got) != 0 {
		t.Errorf("an allowed graph reports %q", got)
	}
}
