package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
)

// receive is a webhook receiver: it verifies the signature over the raw
// body before trusting anything in it, and dedupes on X-Jetmon-Delivery.
func receive(secrets []string, seen map[string]bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get(webhook.HeaderSignature)
		if err := webhook.Verify(sig, body, secrets, 5*time.Minute, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(webhook.HeaderDelivery) // the same on every retry
		if !seen[id] {
			seen[id] = true
			fmt.Println("handle", r.Header.Get(webhook.HeaderEvent), "delivery", id)
		}
		w.WriteHeader(http.StatusNoContent) // any 2xx; answer fast, work later
	}
}

// Example_receiver verifies deliveries the way a receiver should.
func Example_receiver() {
	secret := "whsec_example"
	srv := httptest.NewServer(receive([]string{secret}, map[string]bool{}))
	defer srv.Close()

	body := `{"v":1,"type":"event.opened"}`
	send := func(signWith string) int {
		now := time.Now()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set(webhook.HeaderEvent, "event.opened")
		req.Header.Set(webhook.HeaderDelivery, "42")
		req.Header.Set(webhook.HeaderSignature,
			"t="+strconv.FormatInt(now.Unix(), 10)+",v1="+webhook.Sign(signWith, now, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(send(secret))
	fmt.Println(send(secret)) // a retry: verified, not handled twice
	fmt.Println(send("whsec_wrong"))
	// Output:
	// handle event.opened delivery 42
	// 204
	// 204
	// 401
}
