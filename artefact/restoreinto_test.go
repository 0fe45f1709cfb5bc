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

// fakeLoader records how RestoreInto called it.
type fakeLoader struct {
	needsChecked bool
	refuse       bool // answer ErrNeedsCheckedStream to an unchecked stream
	specs        []engine.RestoreSpec
	got          []byte
}

func (f *fakeLoader) NeedsCheckedStream(engine.Result) bool { return f.needsChecked }

func (f *fakeLoader) Restore(ctx context.Context, spec engine.RestoreSpec, r io.Reader) (engine.Result, error) {
	f.specs = append(f.specs, spec)
	if f.refuse && spec.Unchecked {
		return engine.Result{}, fmt.Errorf("cannot swap views in: %w", engine.ErrNeedsCheckedStream)
	}
	b, err := io.ReadAll(r)
	f.got = b
	return engine.Result{Bytes: int64(len(b))}, err
}

func TestRestoreIntoChoosesTheStream(t *testing.T) {
	for _, c := range []struct {
		name          string
		loader        fakeLoader
		wantUnchecked []bool // one per call
		wantGets      int    // downloads of the data part
		wantLog       string
	}{
		{"engine that keeps the target", fakeLoader{}, []bool{true}, 1, ""},
		{"engine that needs a checked stream", fakeLoader{needsChecked: true}, []bool{false}, 1, ""},
		{"engine that finds it cannot", fakeLoader{refuse: true}, []bool{true, false}, 2, "cannot swap views in: this backup can only be restored from a stream checked beforehand; restoring from the backup checked whole first instead\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := &getCounter{Store: memstore.New(), gets: map[string]int{}}
			data := testData(1<<20 + 3)
			m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, FrameSize: 64 << 10}, fakeDump(data))
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			l := c.loader
			if _, _, err := RestoreInto(ctx, st, "my/job-1/", RestoreOptions{SpoolDir: t.TempDir()}, &l, engine.RestoreSpec{Log: &log}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(l.got, data) {
				t.Fatalf("the engine got %d bytes, not the %d backed up", len(l.got), len(data))
			}
			var got []bool
			for _, s := range l.specs {
				got = append(got, s.Unchecked)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.wantUnchecked) {
				t.Errorf("calls with Unchecked = %v, want %v", got, c.wantUnchecked)
			}
			if n := st.gets["my/job-1/"+m.Parts[0].Name]; n != c.wantGets {
				t.Errorf("data part downloaded %d times, want %d", n, c.wantGets)
			}
			if log.String() != c.wantLog {
				t.Errorf("log %q, want %q", log.String(), c.wantLog)
			}
		})
	}
}

// A damaged backup fed unchecked reaches the engine as a failed read, never
// as a clean end of input.
func TestRestoreIntoUncheckedEndsInErrorOnDamage(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "my", JobID: "job-1", Compression: true, FrameSize: 64 << 10}, fakeDump(testData(1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	k := "my/job-1/" + m.Parts[0].Name
	b := readAll(t, st, k)
	b[len(b)-40] ^= 1
	putBytes(t, st, k, b)
	var l fakeLoader
	_, _, err = RestoreInto(ctx, st, "my/job-1/", RestoreOptions{}, &l, engine.RestoreSpec{})
	if !errors.Is(err, ErrCorrupt) || len(l.specs) != 1 || !l.specs[0].Unchecked {
		t.Fatalf("err = %v after %d calls, want ErrCorrupt from one unchecked call", err, len(l.specs))
	}
}
