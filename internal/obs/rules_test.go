package obs_test

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

const rulesFile = "../../deploy/prometheus/jetmon-rules.yml"

// TestAlertRules parses the shipped alert rules as Prometheus would, and
// checks every jetmon_* metric they use is defined somewhere in the code, so
// a renamed metric cannot silently blind an alert.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("rules do not parse: %v", errs)
	}
	defined := definedMetrics(t)
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts++
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Alert, err)
			}
			for _, sel := range parser.ExtractSelectors(expr) {
				for _, m := range sel {
					if m.Name != model.MetricNameLabel || !strings.HasPrefix(m.Value, "jetmon_") {
						continue
					}
					base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m.Value, "_bucket"), "_sum"), "_count")
					if !defined[base] && !defined[m.Value] {
						t.Errorf("alert %s uses %s, which no Go code defines", r.Alert, m.Value)
					}
				}
			}
		}
	}
	for _, want := range []string{"JetmonNoLeader", "JetmonUnassignedBuckets", "JetmonRegionWithoutProbers",
		"JetmonResultsBacklog", "JetmonChecksLate", "JetmonPublishErrors",
		"JetmonNoDeliverer", "JetmonDeliveryBacklog", "JetmonDeliveryRetriesNearLimit", "JetmonDeliveriesAbandoned",
		"JetmonDeliveryDeadLetters", "JetmonWPCOMBreakerOpen"} {
		if !strings.Contains(mustRead(t, rulesFile), "alert: "+want+"\n") {
			t.Errorf("rules lack alert %s", want)
		}
	}
	if alerts == 0 {
		t.Fatal("no rules parsed")
	}
}

var metricName = regexp.MustCompile(`"(jetmon_[a-z0-9_]+)"`)

// definedMetrics collects every "jetmon_..." string literal in non-test Go
// files of the module: metric names are declared as such literals.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	defined := map[string]bool{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".local" || d.Name() == "tools") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, m := range metricName.FindAllStringSubmatch(mustRead(t, path), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defined
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
