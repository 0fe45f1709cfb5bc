package requirer

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestExpire(t *testing.T) {
	now := at("2026-11-25T12:00:00Z")
	day := 24 * time.Hour
	// b1 is the oldest (10 days), b5 the newest (1 day).
	mk := func(inUse ...string) []Kept {
		var out []Kept
		for i := 1; i <= 5; i++ {
			id := fmt.Sprintf("b%d", i)
			k := Kept{ID: id, FinishedAt: now.Add(-time.Duration(12-2*i) * day)}
			for _, u := range inUse {
				k.InUse = k.InUse || u == id
			}
			out = append(out, k)
		}
		return out
	}
	tests := []struct {
		name    string
		r       Retention
		backups []Kept
		want    []string
	}{
		{name: "unset keeps all", r: Retention{}, backups: mk(), want: nil},
		{name: "count 2", r: Retention{Count: 2}, backups: mk(), want: []string{"b1", "b2", "b3"}},
		{name: "count beyond", r: Retention{Count: 9}, backups: mk(), want: nil},
		{name: "days 5 keeps 4 and 2 days old", r: Retention{Days: 5}, backups: mk(), want: []string{"b1", "b2", "b3"}},
		{name: "days 7", r: Retention{Days: 7}, backups: mk(), want: []string{"b1", "b2"}},
		{name: "both: union kept", r: Retention{Count: 4, Days: 5}, backups: mk(), want: []string{"b1"}},
		{name: "both: days wider", r: Retention{Count: 1, Days: 7}, backups: mk(), want: []string{"b1", "b2"}},
		{name: "all too old: newest kept", r: Retention{Days: 1}, backups: mk(), want: []string{"b1", "b2", "b3", "b4"}},
		{name: "only one", r: Retention{Days: 1}, backups: mk()[:1], want: nil},
		{name: "restore in use", r: Retention{Count: 1}, backups: mk("b2"), want: []string{"b1", "b3", "b4"}},
		{name: "unknown finish kept by age", r: Retention{Days: 3}, backups: append(mk(), Kept{ID: "b0"}), want: []string{"b1", "b2", "b3", "b4"}},
	}
	for _, tt := range tests {
		var got []string
		for _, k := range Expire(tt.r, tt.backups, now) {
			got = append(got, k.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Expire = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRetentionFor(t *testing.T) {
	count, err := ParsePerApp("retention-count", "pg=3; *=7", CheckRetentionValue)
	if err != nil {
		t.Fatal(err)
	}
	days, err := ParsePerApp("retention-days", "30", CheckRetentionValue)
	if err != nil {
		t.Fatal(err)
	}
	if got := RetentionFor(count, days, "pg"); got != (Retention{Count: 3, Days: 30}) {
		t.Errorf("pg: %+v", got)
	}
	if got := RetentionFor(count, days, "mysql"); got.String() != "retention-count=7, retention-days=30" {
		t.Errorf("mysql: %v", got)
	}
	for _, bad := range []string{"-1", "x", "1.5", "100001"} {
		if CheckRetentionValue(bad) == nil {
			t.Errorf("CheckRetentionValue(%q) accepted", bad)
		}
	}
}
