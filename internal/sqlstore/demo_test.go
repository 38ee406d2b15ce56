package sqlstore_test

import (
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestReplaceSites(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	ctx := t.Context()
	sites := []uptime.Site{
		{BlogID: 7, Bucket: 3, Spec: uptime.CheckSpec{URL: "http://a.test/", Keyword: "hello"}},
		{BlogID: 8, Bucket: 4, Spec: uptime.CheckSpec{URL: "http://b.test/"}},
	}
	for range 2 { // replacing twice leaves one row per blog
		if err := sqlstore.ReplaceSites(ctx, db, sites); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sqlstore.NewSites(db, sqlstore.SitesOpts{})
	if err != nil {
		t.Fatal(err)
	}
	active, err := got.ActiveSites(ctx, uptime.BucketRange{Min: 0, Max: 999})
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 2 || active[0].Spec.Keyword != "hello" || active[1].Bucket != 4 {
		t.Fatalf("active sites = %+v", active)
	}
}
