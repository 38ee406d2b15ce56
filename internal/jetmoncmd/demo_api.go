package jetmoncmd

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jetmon-mesh/jetmon/internal/apistore"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// The demo's REST API support (`jetmon all --demo`): an admin key minted at
// each start and the curl lines to try it with. demo.go prints them.

// Demo API key identity: keys of earlier demo runs are revoked when a new
// one is minted, so one demo key is valid at a time.
const (
	demoKeyConsumer = "demo"
	demoKeyCreator  = "jetmon-demo"
	// demoDownBlogID is the demo site that goes down and comes back
	// (demoFlakySite, the fifth demo site).
	demoDownBlogID = demoFirstBlogID + 4
)

// ensureDemoAPIKey revokes the admin keys of earlier demo runs and creates
// a fresh one, returning its token: tokens are stored as hashes only, so
// each start needs a new key to print.
func ensureDemoAPIKey(ctx context.Context, db *sql.DB) (string, error) {
	store, err := apistore.New(db, apistore.Opts{})
	if err != nil {
		return "", fmt.Errorf("demo api key: %w", err)
	}
	keys, err := store.ListKeys(ctx, false)
	if err != nil {
		return "", fmt.Errorf("demo api key: %w", err)
	}
	for _, k := range keys {
		if k.Consumer == demoKeyConsumer && k.CreatedBy == demoKeyCreator {
			if _, err := store.RevokeKey(ctx, k.ID); err != nil {
				return "", fmt.Errorf("demo api key: %w", err)
			}
		}
	}
	_, token, err := store.CreateKey(ctx, apistore.NewKey{Consumer: demoKeyConsumer, Scope: uptime.ScopeAdmin,
		CreatedBy: demoKeyCreator})
	if err != nil {
		return "", fmt.Errorf("demo api key: %w", err)
	}
	return token, nil
}

// demoCurlLines are the commands the demo prints, each a comment line and a
// curl line that works as printed in a POSIX shell: list the sites, see the
// down site's events, and register a webhook pointing at webhookURL.
// apiAddr is the API's host:port.
func demoCurlLines(apiAddr, token, webhookURL string) []string {
	base := "http://" + apiAddr + "/api/v1"
	auth := shellQuote("Authorization: Bearer " + token)
	body, _ := json.Marshal(map[string]string{"url": webhookURL}) // a string map always encodes
	return []string{
		"# the demo sites and their state",
		"curl -sS -H " + auth + " " + shellQuote(base+"/sites"),
		fmt.Sprintf("# the events of the site that goes down (blog %d)", demoDownBlogID),
		"curl -sS -H " + auth + " " + shellQuote(fmt.Sprintf("%s/sites/%d/events", base, demoDownBlogID)),
		"# register a webhook (the answer carries its signing secret, once)",
		"curl -sS -X POST -H " + auth + " -H 'Content-Type: application/json' -d " + shellQuote(string(body)) +
			" " + shellQuote(base+"/webhooks"),
	}
}

// shellQuote quotes s for a POSIX shell: single quotes, with each embedded
// single quote closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
