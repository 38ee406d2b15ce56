package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestAgentCommands(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		"version":                  {args: []string{"version"}, wantOut: "dev\n"},
		"prober needs NATS_URL":    {args: []string{"prober"}, env: map[string]string{"JETMON_OPS_ADDR": "127.0.0.1:0"}, wantErr: "NATS_URL is required for `jetmon prober`"},
		"veriflier needs NATS_URL": {args: []string{"veriflier"}, env: map[string]string{"JETMON_OPS_ADDR": "127.0.0.1:0"}, wantErr: "NATS_URL is required for `jetmon veriflier`"},
		"no coordinator":           {args: []string{"coordinator"}, wantErr: `unknown command "coordinator"`},
		"no migrate":               {args: []string{"migrate"}, wantErr: `unknown command "migrate"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || out.String() != tc.wantOut {
				t.Fatalf("out = %q, err = %v; want %q", out.String(), err, tc.wantOut)
			}
		})
	}
}
