package pitr

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store/memstore"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// A MariaDB backup's window runs from its end to the last file of the
// unbroken run of archived binary logs from its position; a gap ends it,
// and a backup that cannot start a restore to a time has none.
func TestMariaDBWindows(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	put := func(name string, partial bool, k []byte) {
		t.Helper()
		// The form earlier versions stored: each file whole.
		o := artefact.LogFileOptions{Scope: "my", Stream: artefact.LogStreamBinlog, Name: name, Partial: partial, Key: k}
		if _, err := artefact.PutLog(ctx, st, o, strings.NewReader("events of "+name)); err != nil {
			t.Fatal(err)
		}
	}
	finished := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	base := func(id, file string, dbs ...string) artefact.Summary {
		return artefact.Summary{Scope: "my", JobID: id, Prefix: "my/" + id, Complete: true, Engine: engine.MySQL,
			Databases: dbs, FinishedAt: finished, Binlog: &engine.BinlogPosition{File: file, Position: 4}}
	}
	put("mariadb-bin.000001", false, key(1))
	put("mariadb-bin.000002", false, key(2))
	put("mariadb-bin.000003", true, key(2))
	backups := []artefact.Summary{
		base("job-c", "mariadb-bin.000002", "shop"),
		base("job-b", "mariadb-bin.000001", "shop", "crm"), // two databases
		base("job-a", "mariadb-bin.000001", "shop"),
		base("job-z", "mariadb-bin.000009", "shop"), // its file is not archived
		{Scope: "my", JobID: "job-i", Prefix: "my/job-i", Engine: engine.MySQL, Databases: []string{"shop"},
			Binlog: &engine.BinlogPosition{File: "mariadb-bin.000001"}}, // incomplete
	}
	ws, errs := Windows(ctx, st, backups, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(ws) != 2 || ws[0].JobID != "job-c" || ws[1].JobID != "job-a" {
		t.Fatalf("windows = %+v, want job-c's and job-a's", ws)
	}
	logs, err := artefact.ListLogs(ctx, st, "my", artefact.LogStreamBinlog)
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, l := range logs {
		if l.Partial {
			last = l.ModTime
		}
	}
	for _, w := range ws {
		if !w.From.Equal(finished) || !w.Until.Equal(last.UTC()) || w.Engine != engine.MySQL || w.Timeline != 0 {
			t.Errorf("window %+v, want from %v until %v", w, finished, last)
		}
	}

	// Choose: the newest base whose window holds the time.
	mid := finished.Add(time.Minute)
	if w, err := Choose(ws, "my", mid); err != nil || w.JobID != "job-c" {
		t.Errorf("Choose(mid) = %+v, %v", w, err)
	}
	for _, at := range []time.Time{finished.Add(-time.Second), last.Add(time.Hour)} {
		_, err := Choose(ws, "my", at)
		if !errors.Is(err, ErrOutside) || !strings.Contains(err.Error(), "my/job-c from "+finished.Format(time.RFC3339)) {
			t.Errorf("Choose(%v) error = %v, want ErrOutside naming the windows", at, err)
		}
	}
	if _, err := Choose(ws, "pg", mid); !errors.Is(err, ErrOutside) || !strings.Contains(err.Error(), "it has none") {
		t.Errorf("Choose of a scope without windows: %v", err)
	}

	// A gap: without file 2, job-a's window ends with file 1 and job-c
	// has none.
	if err := artefact.DeleteLog(ctx, st, "my", artefact.LogStreamBinlog, "mariadb-bin.000002", false); err != nil {
		t.Fatal(err)
	}
	ws, _ = Windows(ctx, st, backups, nil)
	if len(ws) != 1 || ws[0].JobID != "job-a" {
		t.Fatalf("windows after the gap = %+v", ws)
	}
	for _, l := range logs {
		if l.Name == "mariadb-bin.000001" && !ws[0].Until.Equal(l.ModTime.UTC()) {
			t.Errorf("window after the gap ends %v, want file 1's %v", ws[0].Until, l.ModTime)
		}
	}
}

// A read tries Key, then Keys: files archived before a key rotation stay
// readable; with no key that opens a file, the error says it is corrupt
// or needs a key, and nothing is written.
func TestArchiveReadsWithRotatedKeys(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	old := Archive{Store: st, Scope: "pg", Key: key(1)}
	if err := old.WAL().Put(ctx, "000000010000000000000001", false, strings.NewReader("segment")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rotated := Archive{Store: st, Scope: "pg", Key: key(2), Keys: artefact.Keys{key(3), key(1)}}
	if err := rotated.WAL().Get(ctx, "000000010000000000000001", false, &out); err != nil || out.String() != "segment" {
		t.Fatalf("Get with the old key among Keys = %q, %v", out.String(), err)
	}
	out.Reset()
	lost := Archive{Store: st, Scope: "pg", Key: key(2)}
	if err := lost.WAL().Get(ctx, "000000010000000000000001", false, &out); !errors.Is(err, artefact.ErrCorrupt) || out.Len() != 0 {
		t.Fatalf("Get without the key = %q, %v; want ErrCorrupt and nothing written", out.String(), err)
	}
	if err := (Archive{Store: st, Scope: "pg"}).WAL().Get(ctx, "000000010000000000000001", false, &out); !errors.Is(err, artefact.ErrWrongKey) {
		t.Fatalf("Get with no key at all: %v", err)
	}
}
