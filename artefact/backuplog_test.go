package artefact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// ReadBackupLog reads a complete backup's log checked against the
// manifest (a changed log is refused), a failed backup's log as stored,
// and refuses a log larger than the bound.
func TestReadBackupLog(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	logged := func(line string, fail bool) Producer {
		return func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			w.Write([]byte("data"))
			fmt.Fprintln(log, line)
			if fail {
				return engine.Result{}, errors.New("boom")
			}
			return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical}, nil
		}
	}
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, logged("dumped table t", false)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	complete, err := ReadBackupLog(ctx, st, "pg/job-1/", nil, &b)
	if err != nil || !complete || !strings.Contains(b.String(), "dumped table t") {
		t.Fatalf("complete backup: %v %v %q", complete, err, b.String())
	}
	putBytes(t, st, "pg/job-1/"+LogName, []byte(strings.Replace(b.String(), "dumped", "DUMPED", 1)))
	if _, err := ReadBackupLog(ctx, st, "pg/job-1/", nil, io.Discard); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a changed log: err = %v, want ErrCorrupt", err)
	}

	Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-2"}, logged("connection lost", true))
	b.Reset()
	complete, err = ReadBackupLog(ctx, st, "pg/job-2/", nil, &b)
	if err != nil || complete || !strings.Contains(b.String(), "connection lost") {
		t.Fatalf("failed backup: %v %v %q", complete, err, b.String())
	}
	putBytes(t, st, "pg/job-2/"+LogName, bytes.Repeat([]byte("x"), MaxBackupLog+1))
	if _, err := ReadBackupLog(ctx, st, "pg/job-2/", nil, io.Discard); !errors.Is(err, ErrCorrupt) {
		t.Errorf("an oversized log: err = %v, want ErrCorrupt", err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-3", Key: key}, logged("secret plans", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBackupLog(ctx, st, "pg/job-3/", nil, io.Discard); !errors.Is(err, ErrWrongKey) {
		t.Errorf("an encrypted log without its key: err = %v, want ErrWrongKey", err)
	}
	b.Reset()
	if _, err := ReadBackupLog(ctx, st, "pg/job-3/", key, &b); err != nil || !strings.Contains(b.String(), "secret plans") {
		t.Errorf("an encrypted log with its key: %v %q", err, b.String())
	}
	// A failed encrypted backup: no manifest, its log encrypted all the
	// same; it reads with its key alone, never as ciphertext.
	Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-4", Key: key}, logged("secret failure", true))
	stored := readAll(t, st, "pg/job-4/"+LogName)
	if bytes.Contains(stored, []byte("secret failure")) {
		t.Fatal("a failed encrypted backup stored its log in the clear")
	}
	if _, err := ReadBackupLog(ctx, st, "pg/job-4/", nil, io.Discard); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a failed encrypted backup's log without its key: err = %v, want ErrWrongKey", err)
	}
	if _, err := ReadBackupLog(ctx, st, "pg/job-4/", bytes.Repeat([]byte{8}, 32), io.Discard); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a failed encrypted backup's log with another key: err = %v, want ErrCorrupt (the first frame does not authenticate)", err)
	}
	b.Reset()
	complete, err = ReadBackupLog(ctx, st, "pg/job-4/", key, &b)
	if err != nil || complete || !strings.Contains(b.String(), "secret failure") {
		t.Errorf("a failed encrypted backup's log with its key: %v %v %q", complete, err, b.String())
	}
	if _, err := ReadBackupLog(ctx, st, "pg/job-9/", nil, io.Discard); err == nil {
		t.Error("no backup: no error")
	}
}
