package requirer_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

func sampleHistory() requirer.History {
	return requirer.History{
		Records: []requirer.Record{
			with(waiting("job-20261125T130000Z-00000001", "mysql", dbbackup.Backup, 0),
				func(r *requirer.Record) { r.Method = dbbackup.MethodPhysical }),
			running(with(waiting("job-20261125T130000Z-00000002", "mysql", dbbackup.Restore, 0),
				func(r *requirer.Record) { r.RestoreToTime = t0.Add(-90*time.Minute + 250*time.Millisecond) }), "mysql/0", time.Minute),
			with(finished(waiting("job-20261125T130000Z-00000003", "pg", dbbackup.Backup, 0), dbbackup.Success, "pg/1", time.Hour),
				func(r *requirer.Record) {
					r.ArtefactPath, r.Compression, r.Source = "prod/pg/job-3/", true, requirer.FromSchedule
					r.KeyFingerprint = "0123456789abcdef"
				}),
			with(finished(waiting("job-20261125T130000Z-00000004", "pg", dbbackup.Backup, 0), dbbackup.Error, "pg/0", time.Hour),
				func(r *requirer.Record) { r.Message = `pg_dump: error: "quoted" <html> & more` }),
			finished(waiting("job-20261125T130000Z-00000005", "pg", dbbackup.Backup, 0), dbbackup.Lost, "", 2*time.Hour),
		},
		Dropped: []requirer.Dropped{{Application: "mysql", Success: 2, Error: 1, FinishedThrough: t0}, {Application: "pg", Lost: 1}},
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	h := sampleHistory()
	text, err := h.Marshal()
	if err != nil {
		t.Fatalf("Marshal() = %v", err)
	}
	for _, canary := range []string{canaryAccess, canarySecret} {
		if strings.Contains(text, canary) {
			t.Fatalf("marshalled history holds a credential")
		}
	}
	got, err := requirer.ParseHistory(text)
	if err != nil {
		t.Fatalf("ParseHistory() = %v", err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, h)
	}
	again, err := got.Marshal()
	if err != nil || again != text {
		t.Errorf("second Marshal differs (err %v)\n got %s\nwant %s", err, again, text)
	}
	if !strings.Contains(text, `"key-fingerprint":"0123456789abcdef"`) {
		t.Errorf("key fingerprint not written: %s", text)
	}
	if !strings.Contains(text, `"message":"pg_dump: error: \"quoted\" <html> & more"`) {
		t.Errorf("message not written plainly: %s", text)
	}
}

func TestHistoryEmpty(t *testing.T) {
	for _, text := range []string{"", "  \n"} {
		h, err := requirer.ParseHistory(text)
		if err != nil || len(h.Records) != 0 {
			t.Errorf("ParseHistory(%q) = %+v, %v; want empty", text, h, err)
		}
	}
	text, err := requirer.History{}.Marshal()
	if want := `{"version":1,"records":[]}`; err != nil || text != want {
		t.Errorf("Marshal(empty) = %q, %v; want %q", text, err, want)
	}
}

func TestParseHistorySortsRecords(t *testing.T) {
	text := `{"version":1,"records":[` +
		`{"job-id":"job-2","application":"a","job-type":"backup","source":"action","storage":{"bucket":"b"},"requested-at":"2026-11-25T13:00:00Z","status":"waiting"},` +
		`{"job-id":"job-1","application":"a","job-type":"backup","source":"action","storage":{"bucket":"b"},"requested-at":"2026-11-25T14:00:00+01:00","status":"waiting","future-field":1}]}`
	h, err := requirer.ParseHistory(text)
	if err != nil {
		t.Fatalf("ParseHistory() = %v", err)
	}
	if h.Records[0].JobID != "job-1" || !h.Records[0].RequestedAt.Equal(t0) || h.Records[0].RequestedAt.Location() != time.UTC {
		t.Errorf("records = %+v; want job-1 first, at %v UTC", h.Records, t0)
	}
}

func TestParseHistoryProblems(t *testing.T) {
	rec := func(fields string) string {
		return `{"version":1,"records":[{"job-id":"job-1","application":"a","job-type":"backup","source":"action","storage":{"bucket":"b"},"requested-at":"2026-11-25T13:00:00Z"` + fields + `}]}`
	}
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"not json", `{"version":1,`, []string{"invalid JSON"}},
		{"not an object", `[]`, []string{"invalid JSON"}},
		{"no version", `{"records":[]}`, []string{"version 0, this manager reads version 1"}},
		{"future version", `{"version":2,"records":[]}`, []string{"version 2"}},
		{"bad status", rec(`,"status":"done"`), []string{`records[0].status: must be waiting, running, success, error or lost, got "done"`}},
		{"waiting with unit", rec(`,"status":"waiting","unit":"a/0"`), []string{"records[0].status: waiting, but it has a unit"}},
		{"running without unit", rec(`,"status":"running","started-at":"2026-11-25T13:00:00Z"`), []string{"records[0].status: running needs a unit"}},
		{"success without finish", rec(`,"status":"success","unit":"a/0"`), []string{"records[0].finished-at: required for a success job"}},
		{"error without unit", rec(`,"status":"error","finished-at":"2026-11-25T13:00:00Z"`), []string{"records[0].unit: required for a error job"}},
		{"bad time", rec(`,"status":"lost","finished-at":"yesterday"`), []string{`records[0].finished-at: must be an RFC 3339 time, got "yesterday"`}},
		{"bad id and app", `{"version":1,"records":[{"job-id":"../x","application":"","job-type":"dump","source":"cron","storage":{},"status":"waiting"}]}`,
			[]string{"records[0].job-id", "records[0].application: required", "records[0].job-type", "records[0].source", "records[0].storage.bucket: required", "records[0].requested-at: required"}},
		{"duplicate ids", `{"version":1,"records":[` + strings.TrimSuffix(strings.TrimPrefix(rec(`,"status":"waiting"`), `{"version":1,"records":[`), "]}") + "," +
			strings.TrimSuffix(strings.TrimPrefix(rec(`,"status":"waiting"`), `{"version":1,"records":[`), "]}") + "]}", []string{"records[1].job-id: must sort after"}},
		{"bad key fingerprint", rec(`,"status":"waiting","key-fingerprint":"0123456789ABCDEF"`), []string{`records[0].key-fingerprint: must be 16 lowercase hex digits`}},
		{"key fingerprint of a restore", `{"version":1,"records":[{"job-id":"job-1","application":"a","job-type":"restore","source":"action","storage":{"bucket":"b"},"requested-at":"2026-11-25T13:00:00Z","artefact-path":"b/a/job-0/","status":"waiting","key-fingerprint":"0123456789abcdef"}]}`,
			[]string{"records[0].key-fingerprint: only a backup has one"}},
		{"duplicate dropped", `{"version":1,"records":[],"dropped":[{"application":"a"},{"application":"a"}]}`, []string{"dropped[1].application"}},
		{"negative count", `{"version":1,"records":[],"dropped":[{"application":"a","lost":-1}]}`, []string{"dropped[0]: counts must not be negative"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := requirer.ParseHistory(c.text)
			if err == nil {
				t.Fatalf("ParseHistory() = %+v, want an error", h)
			}
			if !strings.HasPrefix(err.Error(), "cannot read job history: ") {
				t.Errorf("error %q does not start with the context", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if len(h.Records) != 0 {
				t.Errorf("records returned with an error: %+v", h.Records)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	h := hist(with(waiting("job-1", "mysql", dbbackup.Backup, 0), func(r *requirer.Record) { r.Status = dbbackup.Status("requested") }))
	if _, err := h.Marshal(); err == nil || !strings.Contains(err.Error(), "cannot write job history: records[0].status") {
		t.Errorf("Marshal() error = %v, want a status problem", err)
	}
	h = hist(with(waiting("job-1", "mysql", dbbackup.Backup, 0), func(r *requirer.Record) { r.RequestedAt = r.RequestedAt.Add(time.Millisecond) }))
	if _, err := h.Marshal(); err == nil || !strings.Contains(err.Error(), "whole seconds") {
		t.Errorf("Marshal() error = %v, want a time problem", err)
	}
}

func FuzzParseHistory(f *testing.F) {
	sample, err := sampleHistory().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add("")
	f.Add(`{"version":1,"records":[]}`)
	f.Add(`{"version":1,"records":null,"dropped":[{"application":"a","success":1}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		h, err := requirer.ParseHistory(text)
		if err != nil {
			return
		}
		out, err := h.Marshal()
		if err != nil {
			t.Fatalf("parsed history does not marshal: %v", err)
		}
		h2, err := requirer.ParseHistory(out)
		if err != nil {
			t.Fatalf("marshalled history does not parse: %v\n%s", err, out)
		}
		out2, err := h2.Marshal()
		if err != nil || out2 != out {
			t.Fatalf("marshal is not stable (err %v):\n%s\n%s", err, out, out2)
		}
		if !reflect.DeepEqual(h2, normalise(h)) {
			t.Fatalf("round trip changed the history:\n%+v\n%+v", h, h2)
		}
	})
}

// normalise maps nil and empty slices alike, as the JSON layout does.
func normalise(h requirer.History) requirer.History {
	if len(h.Records) == 0 {
		h.Records = []requirer.Record{}
	}
	if len(h.Dropped) == 0 {
		h.Dropped = nil
	}
	return h
}
