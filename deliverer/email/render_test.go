package email_test

import (
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/deliverer/email"
	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// TestRenderGolden freezes the subject and both bodies of each kind of notice.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		notice      uptime.Notice
		wantSubject string
	}{
		"render_down_with_votes": {notice: downNotice(), wantSubject: "[Down] https://example.com/shop"},
		"render_recovery":        {notice: transporttest.RecoveryNotice(), wantSubject: "[Recovered] https://example.com/shop"},
		"render_test_send":       {notice: transporttest.TestSendNotice("https://test.invalid/ops-email"), wantSubject: "[Jetmon test] https://test.invalid/ops-email"},
		"render_hostile_url": {notice: hostileNotice(),
			wantSubject: `[Down] https://example.com/<script>alert(1)</script>?a=1&b="2"Bcc: victim@example.com`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			subject, plain, html := email.Render(tc.notice)
			if subject != tc.wantSubject {
				t.Errorf("subject = %q, want %q", subject, tc.wantSubject)
			}
			transporttest.Golden(t, name, []byte("Subject: "+subject+"\n\n--- plain ---\n"+plain+"\n--- html ---\n"+html))
		})
	}
}

// TestRenderEscapes: nothing from the notice reaches the HTML unescaped,
// and no line break reaches the subject.
func TestRenderEscapes(t *testing.T) {
	t.Parallel()
	subject, plain, html := email.Render(hostileNotice())
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q has a line break", subject)
	}
	for _, raw := range []string{"<script>", `"2"`, "&b="} {
		if strings.Contains(html, raw) {
			t.Errorf("html contains %q unescaped", raw)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(html, "&amp;b=") {
		t.Errorf("html lacks the escaped URL:\n%s", html)
	}
	if !strings.Contains(plain, "<script>") {
		t.Errorf("plain text should show the URL as is:\n%s", plain)
	}
}
