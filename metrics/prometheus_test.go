package metrics

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// realSnapshot is what the real-Prometheus test serves: pg's last backup
// failed and its last success is older than its one-minute threshold; my's
// scheduled backup is two hours late; pg/0 cannot reach the storage.
func realSnapshot(now time.Time) Snapshot {
	return Snapshot{Apps: []App{
		{
			Application: "pg",
			LastSuccess: now.Add(-2 * time.Hour),
			Last: []Job{
				{Type: dbbackup.Backup, Outcome: dbbackup.Error, Started: now.Add(-time.Minute), Ended: now.Add(-50 * time.Second)},
				{Type: dbbackup.Restore, Outcome: dbbackup.Success, Started: now.Add(-3 * time.Hour), Ended: now.Add(-170 * time.Minute), RawBytes: 4096, StoredBytes: 1024},
			},
			Counts:     []Count{{Type: dbbackup.Backup, Outcome: dbbackup.Error, Jobs: 1, Seconds: 10}, {Type: dbbackup.Restore, Outcome: dbbackup.Success, Jobs: 1, Seconds: 600}},
			NextBackup: now.Add(time.Hour),
			MaxAge:     time.Minute,
			Bucket:     &Bucket{Backups: 7, StoredBytes: 7 << 20, Listed: now},
		},
		{
			Application: "my",
			LastSuccess: now.Add(-10 * time.Minute),
			Last:        []Job{{Type: dbbackup.Backup, Outcome: dbbackup.Success, Started: now.Add(-11 * time.Minute), Ended: now.Add(-10 * time.Minute), RawBytes: 1 << 20, StoredBytes: 300 << 10}},
			Counts:      []Count{{Type: dbbackup.Backup, Outcome: dbbackup.Success, Jobs: 3, Seconds: 180}},
			NextBackup:  now.Add(-2 * time.Hour),
			MaxAge:      36 * time.Hour,
			Bucket:      &Bucket{Backups: 3, StoredBytes: 900 << 10, Listed: now},
		},
		{Application: "pg", Unit: "pg/0", Storage: &StorageCheck{Reachable: false, Checked: now}},
	}}
}

// TestRealPrometheus: a real Prometheus scrapes our server, its queries
// return our values, every dashboard panel's query returns data, and the
// alerts fire (and stay silent) as the snapshot says; a later successful
// backup resolves the backup alerts.
func TestRealPrometheus(t *testing.T) {
	var st State
	now := time.Now()
	if err := st.Set(realSnapshot(now)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, &st) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	rules := writeRules(t, t.TempDir(), nil)
	prom := testenv.StartPrometheus(t, testenv.PrometheusOptions{Targets: []string{target}, RuleFiles: []string{rules}})

	// The values come back through Prometheus.
	waitFor(t, "pg's bucket count scraped", func() (bool, string) {
		s, err := prom.Query(context.Background(), `dbbackup_bucket_backups{application="pg"}`)
		if err != nil || len(s) != 1 {
			return false, describe(s, err)
		}
		return s[0].Value == 7 && s[0].Labels["job"] == "dbbackup" && s[0].Labels["instance"] == target, describe(s, err)
	})
	s, err := prom.Query(context.Background(), `dbbackup_last_success_timestamp_seconds{application="my"}`)
	if err != nil || len(s) != 1 || s[0].Value < float64(now.Add(-10*time.Minute-time.Second).Unix()) || s[0].Value > float64(now.Add(-10*time.Minute+time.Second).Unix()) {
		t.Errorf("my's last success: %s", describe(s, err))
	}

	// Every dashboard panel's query returns data.
	for _, p := range readDashboard(t, Dashboard()).Panels {
		for _, tg := range p.Targets {
			expr := strings.ReplaceAll(tg.Expr, "$__rate_interval", "1m")
			waitFor(t, "panel "+p.Title, func() (bool, string) {
				s, err := prom.Query(context.Background(), expr)
				return err == nil && len(s) > 0, expr + ": " + describe(s, err)
			})
		}
	}

	// The alerts: firing, pending and silent as the snapshot says.
	want := map[string]string{
		AlertBackupFailed + " pg ":           "firing",
		AlertBackupTooOld + " pg ":           "firing",
		AlertScheduledBackupMissed + " my ":  "firing",
		AlertStorageUnreachable + " pg pg/0": "pending",
	}
	waitFor(t, "the alerts", func() (bool, string) {
		got, err := alertStates(prom)
		if err != nil {
			return false, err.Error()
		}
		return equalMaps(got, want), describeMap(got)
	})

	// A successful backup resolves pg's backup alerts; the others stay.
	later := realSnapshot(time.Now())
	later.Apps[0].LastSuccess = time.Now()
	later.Apps[0].Last[0].Outcome = dbbackup.Success
	if err := st.Set(later); err != nil {
		t.Fatal(err)
	}
	delete(want, AlertBackupFailed+" pg ")
	delete(want, AlertBackupTooOld+" pg ")
	waitFor(t, "the backup alerts to resolve", func() (bool, string) {
		got, err := alertStates(prom)
		if err != nil {
			return false, err.Error()
		}
		return equalMaps(got, want), describeMap(got)
	})
}

// alertStates maps "alertname application unit" to the alert's state.
func alertStates(prom *testenv.Prometheus) (map[string]string, error) {
	alerts, err := prom.Alerts(context.Background())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, a := range alerts {
		out[a.Labels["alertname"]+" "+a.Labels["application"]+" "+a.Labels["unit"]] = a.State
	}
	return out, nil
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func describeMap(m map[string]string) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k + "=" + v + "; ")
	}
	return b.String()
}

func describe(s []testenv.Sample, err error) string {
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, x := range s {
		fmt.Fprintf(&b, "%v=%g; ", x.Labels, x.Value)
	}
	return b.String()
}

// waitFor polls cond for up to 30 s (Prometheus scrapes and evaluates
// every second), failing the test with cond's last description.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: not within 30 s; last: %s", what, last)
}
