package requirer_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

func TestClearHistory(t *testing.T) {
	w := waiting("job-1", "mysql", dbbackup.Backup, 0)
	r := running(waiting("job-2", "pg", dbbackup.Restore, 0), "pg/0", time.Minute)
	s := finished(waiting("job-3", "mysql", dbbackup.Backup, 0), dbbackup.Success, "mysql/0", time.Minute)
	e := finished(waiting("job-4", "mysql", dbbackup.Backup, 0), dbbackup.Error, "mysql/0", time.Minute)
	l := finished(waiting("job-5", "mysql", dbbackup.Backup, 0), dbbackup.Lost, "", time.Minute)
	dropped := []requirer.Dropped{{Application: "mysql", Success: 3, FinishedThrough: t0}}
	cases := []struct {
		name        string
		h           requirer.History
		want        requirer.History
		wantRemoved int
	}{
		{"empty", requirer.History{}, requirer.History{}, 0},
		{"only pending", hist(w, r), hist(w, r), 0},
		{"mixed", requirer.History{Records: []requirer.Record{w, r, s, e, l}, Dropped: dropped}, hist(w, r), 3},
		{"only terminal", hist(s, e, l), requirer.History{}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := deepCopy(c.h)
			got, removed := requirer.ClearHistory(c.h)
			if removed != c.wantRemoved {
				t.Errorf("removed = %d, want %d", removed, c.wantRemoved)
			}
			if len(got.Records) != len(c.want.Records) || (len(got.Records) > 0 && !reflect.DeepEqual(got.Records, c.want.Records)) || len(got.Dropped) != 0 {
				t.Errorf("ClearHistory() = %+v, want %+v", got, c.want)
			}
			if !reflect.DeepEqual(before, c.h) {
				t.Errorf("ClearHistory modified its input")
			}
		})
	}
}
