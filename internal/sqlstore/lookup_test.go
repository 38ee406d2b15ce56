package sqlstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

func TestSitesLookup(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	sites := newSites(t, db, sqlstore.SitesOpts{})
	checked := time.Date(2026, 3, 1, 10, 0, 7, 0, time.UTC)
	alerted := checked.Add(-time.Hour)
	start := checked.Add(time.Hour)

	insertSite(t, db, 1, 4, map[string]any{"last_checked_at": checked, "last_alert_sent_at": alerted,
		"maintenance_start": start, "maintenance_end": start.Add(time.Hour), "alert_cooldown_minutes": 5})
	insertSite(t, db, 2, 5, map[string]any{"monitor_active": 0})
	// Blog 3 has an old inactive row and a newer active one in another
	// bucket; blog 4 two inactive rows: the newest row counts.
	insertSite(t, db, 3, 6, map[string]any{"monitor_active": 0})
	insertSite(t, db, 3, 7, nil)
	insertSite(t, db, 3, 8, map[string]any{"monitor_active": 0})
	insertSite(t, db, 4, 1, map[string]any{"monitor_active": 0})
	insertSite(t, db, 4, 2, map[string]any{"monitor_active": 0})

	one := defaultSite(1, 4)
	one.MaintenanceStart, one.MaintenanceEnd, one.AlertCooldown = start, start.Add(time.Hour), 5*time.Minute
	tests := map[string]struct {
		ids  []int64
		want []sqlstore.SiteRecord
	}{
		"bookkeeping and window": {ids: []int64{1},
			want: []sqlstore.SiteRecord{{Site: one, Active: true, LastCheckedAt: checked, LastAlertSentAt: alerted}}},
		"inactive and unknown blogs, repeats": {ids: []int64{9, 2, 2},
			want: []sqlstore.SiteRecord{{Site: defaultSite(2, 5)}}},
		"the active row wins, else the newest": {ids: []int64{4, 3},
			want: []sqlstore.SiteRecord{{Site: defaultSite(3, 7), Active: true}, {Site: defaultSite(4, 2)}}},
		"none": {ids: nil, want: nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := sites.Lookup(t.Context(), tt.ids)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%v) =\n%+v\nwant\n%+v", tt.ids, got, tt.want)
			}
		})
	}
}
