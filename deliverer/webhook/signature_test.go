package webhook_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
)

// TestSignKnownVector pins Sign to an independent implementation:
// printf '1773500966.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	const want = "acc2fb6c295f3bf7637de04dfdee104c96f3aede16b89bab87894e226b7489e6"
	if got := webhook.Sign("whsec_test", at(), []byte(`{"a":1}`)); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"event.opened"}`)
	sig := func(secret string, ts time.Time) string { return webhook.Sign(secret, ts, body) }
	ts := "t=1773500966"
	tests := map[string]struct {
		header    string
		body      []byte
		secrets   []string
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		"valid":                      {header: ts + ",v1=" + sig("a", at()), secrets: []string{"a"}},
		"second v1 matches":          {header: ts + ",v1=" + sig("old", at()) + ",v1=" + sig("a", at()), secrets: []string{"a"}},
		"second secret matches":      {header: ts + ",v1=" + sig("b", at()), secrets: []string{"a", "b"}},
		"spaces and unknown schemes": {header: " t=1773500966 , v0=abc, v2=zzz, v1=" + sig("a", at()) + " ", secrets: []string{"a"}},
		"within tolerance, late":     {header: ts + ",v1=" + sig("a", at()), secrets: []string{"a"}, now: at().Add(4 * time.Minute)},
		"custom tolerance":           {header: ts + ",v1=" + sig("a", at()), secrets: []string{"a"}, now: at().Add(time.Hour), tolerance: 2 * time.Hour},
		"tampered body":              {header: ts + ",v1=" + sig("a", at()), body: []byte(`{"type":"event.closed"}`), secrets: []string{"a"}, want: webhook.ErrSignatureMismatch},
		"wrong secret":               {header: ts + ",v1=" + sig("a", at()), secrets: []string{"b"}, want: webhook.ErrSignatureMismatch},
		"no secrets":                 {header: ts + ",v1=" + sig("a", at()), want: webhook.ErrSignatureMismatch},
		"empty secret never matches": {header: ts + ",v1=" + sig("", at()), secrets: []string{""}, want: webhook.ErrSignatureMismatch},
		"t does not match signature": {header: "t=1773500967,v1=" + sig("a", at()), secrets: []string{"a"}, want: webhook.ErrSignatureMismatch},
		"no v1":                      {header: ts + ",v0=" + sig("a", at()), secrets: []string{"a"}, want: webhook.ErrSignatureMismatch},
		"v1 not hex":                 {header: ts + ",v1=xyz", secrets: []string{"a"}, want: webhook.ErrSignatureMismatch},
		"too old":                    {header: ts + ",v1=" + sig("a", at()), secrets: []string{"a"}, now: at().Add(6 * time.Minute), want: webhook.ErrSignatureExpired},
		"too far in the future":      {header: ts + ",v1=" + sig("a", at()), secrets: []string{"a"}, now: at().Add(-6 * time.Minute), want: webhook.ErrSignatureExpired},
		"empty header":               {secrets: []string{"a"}, want: webhook.ErrSignatureMalformed},
		"no t":                       {header: "v1=" + sig("a", at()), secrets: []string{"a"}, want: webhook.ErrSignatureMalformed},
		"t not a number":             {header: "t=soon,v1=" + sig("a", at()), secrets: []string{"a"}, want: webhook.ErrSignatureMalformed},
		"two t entries":              {header: ts + ",t=1,v1=" + sig("a", at()), secrets: []string{"a"}, want: webhook.ErrSignatureMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, now := body, at()
			if tc.body != nil {
				b = tc.body
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			err := webhook.Verify(tc.header, b, tc.secrets, tc.tolerance, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
