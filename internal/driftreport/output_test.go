package driftreport_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/driftreport"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "Seems Down", "Seems Down"},
		{"empty", "", ""},
		{"escape sequence and newline", "Down\x1b[31m\nStill Down", "Down?[31m?Still Down"},
		{"tab, carriage return, NUL and DEL", "a\tb\rc\x00d\x7f", "a?b?c?d?"},
		{"C1 control (CSI)", "a\u009bb", "a?b"},
		{"bidi override and zero-width joiner", "x\u202ey\u200dz", "x?y?z"},
		{"invalid UTF-8", "a\xffb", "a?b"},
		{"other scripts are kept", "Hors ligne 停止", "Hors ligne 停止"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := driftreport.Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func ptr(v int) *int { return &v }

func TestResolveRange(t *testing.T) {
	t.Parallel()
	rollout := uptime.BucketRange{Min: 100, Max: 199}
	tests := []struct {
		name     string
		min, max *int
		want     uptime.BucketRange
		wantErr  string
	}{
		{name: "configured rollout range by default", want: rollout},
		{name: "explicit range", min: ptr(3), max: ptr(5), want: uptime.BucketRange{Min: 3, Max: 5}},
		{name: "one bucket", min: ptr(999), max: ptr(999), want: uptime.BucketRange{Min: 999, Max: 999}},
		{name: "only min", min: ptr(3), wantErr: "--bucket-min and --bucket-max must be set together"},
		{name: "only max", max: ptr(3), wantErr: "--bucket-min and --bucket-max must be set together"},
		{name: "negative", min: ptr(-1), max: ptr(3), wantErr: "--bucket-min and --bucket-max must be >= 0"},
		{name: "inverted", min: ptr(7), max: ptr(3), wantErr: "--bucket-max 3 must be >= --bucket-min 7"},
		{name: "beyond the bucket total", min: ptr(0), max: ptr(1000), wantErr: "--bucket-max 1000 must be < BUCKET_TOTAL 1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := driftreport.ResolveRange(tt.min, tt.max, rollout, 1000)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ResolveRange = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"text": true, "json": true, "": false, "JSON": false, "yaml": false} {
		if _, err := driftreport.ParseFormat(in); (err == nil) != ok {
			t.Errorf("ParseFormat(%q) error = %v, want ok %v", in, err, ok)
		}
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	e := driftreport.Envelope{Command: driftreport.Command, Failures: []string{"db connect: bad\x1b[2J"}, Lines: []driftreport.Line{
		{Level: driftreport.LevelSection, Message: "first"},
		{Level: driftreport.LevelPass, Message: "p"},
		{Level: driftreport.LevelOutput, Message: "A   B"},
		{Level: driftreport.LevelSection, Message: "second"},
		{Level: driftreport.LevelFail, Message: "f"},
	}}
	var out, errOut bytes.Buffer
	if err := driftreport.Emit(&out, &errOut, driftreport.FormatText, e); err != nil {
		t.Fatal(err)
	}
	if want := "## first\nPASS p\nA   B\n\n## second\nFAIL f\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out.String(), want)
	}
	if want := "FAIL db connect: bad?[2J\n"; errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut.String(), want)
	}
	out.Reset()
	errOut.Reset()
	if err := driftreport.Emit(&out, &errOut, driftreport.FormatJSON, e); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 || !strings.Contains(out.String(), `"failures": [`) || !strings.Contains(out.String(), `"ok": false`) {
		t.Errorf("JSON stdout %q, stderr %q", out.String(), errOut.String())
	}
}

func TestGuidanceCoversEveryCause(t *testing.T) {
	t.Parallel()
	seen := map[string]sqlstore.DriftCause{}
	for _, c := range sqlstore.DriftCauses() {
		g := driftreport.Guidance(c)
		if strings.HasPrefix(g, "unknown drift cause") || strings.Contains(g, `"`) {
			t.Errorf("Guidance(%s) = %q", c, g)
		}
		if other, dup := seen[g]; dup {
			t.Errorf("causes %s and %s share guidance", c, other)
		}
		seen[g] = c
	}
}
