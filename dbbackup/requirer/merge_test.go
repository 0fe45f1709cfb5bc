package requirer_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

const lostAfter = time.Hour

func TestMerge(t *testing.T) {
	B, R := dbbackup.Backup, dbbackup.Restore
	w1 := waiting("job-1", "mysql", B, 0)
	r1 := running(w1, "mysql/1", time.Minute)
	now := 10 * time.Minute
	type reports = map[string][]dbbackup.Job
	cases := []struct {
		name        string
		h           requirer.History
		reports     reports
		at          time.Duration
		want        requirer.Record
		wantChanges []string
	}{{
		name:        "waiting, reported running: started",
		h:           hist(w1),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Running, "dumping", "")}},
		want:        with(running(w1, "mysql/0", now), func(r *requirer.Record) { r.Message = "dumping" }),
		wantChanges: []string{"job job-1 of mysql: started (waiting -> running) by mysql/0"},
	}, {
		name:        "waiting, reported success: finished, never seen running",
		h:           hist(w1),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Success, "", "prod/job-1/")}},
		want:        with(finished(w1, dbbackup.Success, "mysql/0", now), func(r *requirer.Record) { r.ArtefactPath = "prod/job-1/" }),
		wantChanges: []string{"job job-1 of mysql: finished (waiting -> success) by mysql/0"},
	}, {
		name:    "running, same unit still running: no change",
		h:       hist(r1),
		reports: reports{"mysql/1": {report("job-1", B, dbbackup.Running, "", "")}},
		want:    with(r1, func(r *requirer.Record) { r.SeenAt = t0.Add(now) }),
	}, {
		name:        "running, error",
		h:           hist(r1),
		reports:     reports{"mysql/1": {report("job-1", B, dbbackup.Error, "mysqldump: access denied", "")}},
		want:        with(finished(r1, dbbackup.Error, "mysql/1", now), func(r *requirer.Record) { r.Message = "mysqldump: access denied" }),
		wantChanges: []string{"job job-1 of mysql: finished (running -> error) by mysql/1: mysqldump: access denied"},
	}, {
		name: "terminal beats running from another unit",
		h:    hist(r1),
		reports: reports{
			"mysql/0": {report("job-1", B, dbbackup.Success, "", "p/")},
			"mysql/1": {report("job-1", B, dbbackup.Running, "", "")},
		},
		want: with(finished(r1, dbbackup.Success, "mysql/0", now), func(r *requirer.Record) { r.ArtefactPath = "p/" }),
		wantChanges: []string{
			"job job-1 of mysql: ignored by mysql/1: reports running; mysql/0's report (success) is preferred",
			"job job-1 of mysql: finished (running -> success) by mysql/0",
		},
	}, {
		name: "two terminals: the unit recorded running wins",
		h:    hist(r1),
		reports: reports{
			"mysql/0": {report("job-1", B, dbbackup.Success, "", "p/")},
			"mysql/1": {report("job-1", B, dbbackup.Error, "disk full", "")},
		},
		want: with(finished(r1, dbbackup.Error, "mysql/1", now), func(r *requirer.Record) { r.Message = "disk full" }),
		wantChanges: []string{
			"job job-1 of mysql: ignored by mysql/0: reports success; mysql/1's report (error) is preferred",
			"job job-1 of mysql: finished (running -> error) by mysql/1: disk full",
		},
	}, {
		name: "two terminals, no unit recorded: smallest unit number wins",
		h:    hist(w1),
		reports: reports{
			"mysql/10": {report("job-1", B, dbbackup.Success, "", "p/")},
			"mysql/2":  {report("job-1", B, dbbackup.Error, "boom", "")},
		},
		want: with(finished(w1, dbbackup.Error, "mysql/2", now), func(r *requirer.Record) { r.Message = "boom" }),
		wantChanges: []string{
			"job job-1 of mysql: ignored by mysql/10: reports success; mysql/2's report (error) is preferred",
			"job job-1 of mysql: finished (waiting -> error) by mysql/2: boom",
		},
	}, {
		name:        "running unit departed, another unit runs it: moved",
		h:           hist(r1),
		reports:     reports{"mysql/2": {report("job-1", B, dbbackup.Running, "", "")}},
		want:        with(r1, func(r *requirer.Record) { r.Unit, r.SeenAt = "mysql/2", t0.Add(now) }),
		wantChanges: []string{"job job-1 of mysql: moved by mysql/2: was running on mysql/1"},
	}, {
		name:        "terminal never changes",
		h:           hist(finished(w1, dbbackup.Success, "mysql/0", time.Minute)),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Error, "late", "")}},
		want:        finished(w1, dbbackup.Success, "mysql/0", time.Minute),
		wantChanges: []string{"job job-1 of mysql: ignored by mysql/0: reports error, but the job is already success"},
	}, {
		name:    "agreeing report of a terminal job: quiet",
		h:       hist(finished(w1, dbbackup.Success, "mysql/0", time.Minute)),
		reports: reports{"mysql/0": {report("job-1", B, dbbackup.Success, "", "")}, "mysql/1": {report("job-1", B, dbbackup.Success, "", "")}},
		want:    finished(w1, dbbackup.Success, "mysql/0", time.Minute),
	}, {
		name:        "unknown job id: ignored",
		h:           hist(w1),
		reports:     reports{"mysql/0": {report("job-9", B, dbbackup.Running, "", "")}},
		want:        w1,
		wantChanges: []string{"job job-9 of mysql: ignored by mysql/0: not a job this manager requested for mysql"},
	}, {
		name:        "another application's job: ignored",
		h:           hist(waiting("job-1", "pg", B, 0)),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Running, "", "")}},
		want:        waiting("job-1", "pg", B, 0),
		wantChanges: []string{"job job-1 of mysql: ignored by mysql/0: not a job this manager requested for mysql"},
	}, {
		name:        "a status that is not the wire's (lost): ignored",
		h:           hist(w1),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Lost, "", "")}},
		want:        w1,
		wantChanges: []string{`job job-1 of mysql: ignored by mysql/0: unknown status "lost"`},
	}, {
		name:        "other job type: ignored",
		h:           hist(w1),
		reports:     reports{"mysql/0": {report("job-1", R, dbbackup.Running, "", "")}},
		want:        w1,
		wantChanges: []string{"job job-1 of mysql: ignored by mysql/0: reported as a restore, requested as a backup"},
	}, {
		name:        "restore keeps the requested artefact path",
		h:           hist(waiting("job-1", "mysql", R, 0)),
		reports:     reports{"mysql/0": {report("job-1", R, dbbackup.Success, "", "somewhere/else")}},
		want:        finished(waiting("job-1", "mysql", R, 0), dbbackup.Success, "mysql/0", now),
		wantChanges: []string{"job job-1 of mysql: finished (waiting -> success) by mysql/0"},
	}, {
		name: "waiting exactly lostAfter: not lost yet",
		h:    hist(w1),
		at:   lostAfter,
		want: w1,
	}, {
		name: "waiting past lostAfter: lost",
		h:    hist(w1),
		at:   lostAfter + time.Second,
		want: with(w1, func(r *requirer.Record) {
			r.Status, r.FinishedAt, r.Message = dbbackup.Lost, t0.Add(lostAfter+time.Second), "no unit of mysql picked it up within 1h0m0s of the request"
		}),
		wantChanges: []string{"job job-1 of mysql: lost (waiting -> lost): no unit of mysql picked it up within 1h0m0s of the request"},
	}, {
		name: "running, unreported past lostAfter since last seen: lost",
		h:    hist(r1),
		at:   time.Minute + lostAfter + time.Second,
		want: with(r1, func(r *requirer.Record) {
			r.Status, r.FinishedAt = dbbackup.Lost, t0.Add(time.Minute+lostAfter+time.Second)
			r.Message = "last reported running by mysql/1 at 2026-11-25T13:01:00Z; no unit has reported it for more than 1h0m0s"
		}),
		wantChanges: []string{"job job-1 of mysql: lost (running -> lost): last reported running by mysql/1 at 2026-11-25T13:01:00Z; no unit has reported it for more than 1h0m0s"},
	}, {
		name:        "reported just in time: not lost",
		h:           hist(w1),
		at:          5 * lostAfter,
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Running, "", "")}},
		want:        running(w1, "mysql/0", 5*lostAfter),
		wantChanges: []string{"job job-1 of mysql: started (waiting -> running) by mysql/0"},
	}, {
		name:        "lost, then a late report: stays lost",
		h:           hist(finished(w1, dbbackup.Lost, "", time.Hour)),
		reports:     reports{"mysql/0": {report("job-1", B, dbbackup.Success, "", "p/")}},
		want:        finished(w1, dbbackup.Lost, "", time.Hour),
		wantChanges: []string{"job job-1 of mysql: ignored by mysql/0: reports success, but the job is already lost"},
	}, {
		name: "another application's waiting job is not lost by this merge",
		h:    hist(waiting("job-1", "pg", B, 0)),
		at:   10 * lostAfter,
		want: waiting("job-1", "pg", B, 0),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at == 0 {
				at = now
			}
			before := deepCopy(c.h)
			got, changes := requirer.Merge(c.h, "mysql", c.reports, t0.Add(at), lostAfter)
			if !reflect.DeepEqual(c.h, before) {
				t.Errorf("Merge modified its input history")
			}
			if len(got.Records) != 1 {
				t.Fatalf("got %d records, want 1", len(got.Records))
			}
			if got.Records[0] != c.want {
				t.Errorf("record\n got %+v\nwant %+v", got.Records[0], c.want)
			}
			var gotChanges []string
			for _, ch := range changes {
				gotChanges = append(gotChanges, ch.String())
			}
			if !slices.Equal(gotChanges, c.wantChanges) {
				t.Errorf("changes\n got %q\nwant %q", gotChanges, c.wantChanges)
			}
			if err := got.Check(); err != nil {
				t.Errorf("merged history fails Check: %v", err)
			}
		})
	}
}

func TestMergeNeverLostWhenDisabled(t *testing.T) {
	h := hist(waiting("job-1", "mysql", dbbackup.Backup, 0))
	got, changes := requirer.Merge(h, "mysql", nil, t0.Add(1000*time.Hour), 0)
	if got.Records[0].Status != dbbackup.Waiting || len(changes) != 0 {
		t.Errorf("with lostAfter 0: status %s, changes %v; want waiting, none", got.Records[0].Status, changes)
	}
}

func TestMergeClipsMessages(t *testing.T) {
	h := hist(waiting("job-1", "mysql", dbbackup.Backup, 0))
	long := strings.Repeat("é", requirer.MaxMessage) // 2 bytes a rune
	got, _ := requirer.Merge(h, "mysql", map[string][]dbbackup.Job{"mysql/0": {report("job-1", dbbackup.Backup, dbbackup.Error, long, "")}}, t0, lostAfter)
	msg := got.Records[0].Message
	if len(msg) > requirer.MaxMessage || !strings.HasSuffix(msg, "(truncated)") || !strings.HasPrefix(msg, "éé") {
		t.Errorf("message of %d bytes not clipped as expected: ...%q", len(msg), msg[len(msg)-20:])
	}
	if _, err := got.Marshal(); err != nil {
		t.Errorf("Marshal() = %v", err)
	}
}

func TestMergeMakesMessagesValidUTF8(t *testing.T) {
	h := hist(waiting("job-1", "mysql", dbbackup.Backup, 0))
	got, _ := requirer.Merge(h, "mysql", map[string][]dbbackup.Job{"mysql/0": {report("job-1", dbbackup.Backup, dbbackup.Error, "bad \xff byte", "")}}, t0, lostAfter)
	if msg, want := got.Records[0].Message, "bad \uFFFD byte"; msg != want {
		t.Errorf("message = %q, want %q", msg, want)
	}
	text, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := requirer.ParseHistory(text)
	if err != nil || !reflect.DeepEqual(back, got) {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, got)
	}
	bad := hist(with(finished(waiting("job-1", "mysql", dbbackup.Backup, 0), dbbackup.Error, "mysql/0", time.Minute), func(r *requirer.Record) { r.Message = "\xff" }))
	if _, err := bad.Marshal(); err == nil || !strings.Contains(err.Error(), "records[0].message: must be valid UTF-8") {
		t.Errorf("Marshal(invalid UTF-8 message) error = %v", err)
	}
}

func TestMergeCompactsOldTerminalRecords(t *testing.T) {
	var h requirer.History
	n := requirer.MaxCompleted + 5
	for i := range n {
		id := "job-" + pad(i)
		h.Records = append(h.Records, finished(waiting(id, "mysql", dbbackup.Backup, 0), dbbackup.Success, "mysql/0", time.Minute))
	}
	h.Records = append(h.Records, waiting("job-000000", "mysql", dbbackup.Backup, 0)) // oldest, but pending
	slices.SortFunc(h.Records, func(a, b requirer.Record) int { return strings.Compare(a.JobID, b.JobID) })
	got, _ := requirer.Merge(h, "mysql", nil, t0, lostAfter)
	if len(got.Records) != requirer.MaxCompleted+1 {
		t.Fatalf("got %d records, want %d", len(got.Records), requirer.MaxCompleted+1)
	}
	if got.Records[0].JobID != "job-000000" {
		t.Errorf("pending record dropped: first is %s", got.Records[0].JobID)
	}
	if got.Records[1].JobID != "job-"+pad(5) {
		t.Errorf("first kept terminal record = %s, want the sixth oldest", got.Records[1].JobID)
	}
	want := []requirer.Dropped{{Application: "mysql", Success: 5, FinishedThrough: t0.Add(time.Minute)}}
	if !reflect.DeepEqual(got.Dropped, want) {
		t.Errorf("Dropped = %+v, want %+v", got.Dropped, want)
	}
}

func TestCompactDropsEarliestFinished(t *testing.T) {
	B := dbbackup.Backup
	h := hist(
		finished(waiting("job-1", "mysql", B, 0), dbbackup.Success, "mysql/0", 5*time.Hour), // oldest id, finished last
		finished(waiting("job-2", "pg", B, 0), dbbackup.Error, "pg/0", time.Hour),
		waiting("job-3", "mysql", B, 0),
		finished(waiting("job-4", "mysql", B, 0), dbbackup.Lost, "", 2*time.Hour),
		finished(waiting("job-5", "mysql", B, 0), dbbackup.Success, "mysql/1", 3*time.Hour),
	)
	got, dropped := requirer.Compact(h, 2, requirer.MaxHistoryBytes)
	if dropped != 2 {
		t.Errorf("dropped = %d, want 2", dropped)
	}
	var ids []string
	for _, r := range got.Records {
		ids = append(ids, r.JobID)
	}
	if want := []string{"job-1", "job-3", "job-5"}; !slices.Equal(ids, want) {
		t.Errorf("kept %v, want %v", ids, want)
	}
	want := []requirer.Dropped{
		{Application: "mysql", Lost: 1, FinishedThrough: t0.Add(2 * time.Hour)},
		{Application: "pg", Error: 1, FinishedThrough: t0.Add(time.Hour)},
	}
	if !reflect.DeepEqual(got.Dropped, want) {
		t.Errorf("Dropped = %+v, want %+v", got.Dropped, want)
	}
	again, dropped := requirer.Compact(got, 2, requirer.MaxHistoryBytes)
	if dropped != 0 || !reflect.DeepEqual(again, got) {
		t.Errorf("second Compact dropped %d", dropped)
	}
}

func pad(i int) string {
	s := "00000" + itoa(i+1)
	return s[len(s)-6:]
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// deepCopy copies h so that a change to the original's arrays shows.
func deepCopy(h requirer.History) requirer.History {
	return requirer.History{Records: slices.Clone(h.Records), Dropped: slices.Clone(h.Dropped)}
}
