package bus

import "testing"

func TestServerAtLeast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, version string
		want          bool
	}{
		{"same", "2.14.0", true},
		{"newer minor", "2.15.2", true},
		{"newer major", "3.0.0", true},
		{"release candidate", "2.14.0-RC.1", true},
		{"older minor", "2.11.9", false},
		{"older major", "1.99.0", false},
		{"not connected", "", true},
		{"unparsable", "x.y", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := serverAtLeast(tc.version, 2, 14); got != tc.want {
				t.Errorf("serverAtLeast(%q, 2, 14) = %v, want %v", tc.version, got, tc.want)
			}
		})
	}
}
