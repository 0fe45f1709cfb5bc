package artefact_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

// TestConcurrentBackupsWithOneJobID starts two backups with one job id at
// once, several times, on a real S3 server: exactly one may succeed, the
// other is refused before its producer runs, and the winner verifies.
func TestConcurrentBackupsWithOneJobID(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	st, _ := newS3(t, srv, "")
	ctx := context.Background()
	for round := range 5 {
		id := fmt.Sprintf("job-%d", round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var calls [2]atomic.Int32
		var errs [2]error
		for i := range 2 {
			wg.Go(func() {
				<-start
				_, errs[i] = artefact.Backup(ctx, st, backupOpts(id), dump(&calls[i], 50000))
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, artefact.ErrExists):
				t.Errorf("%s: backup %d: %v, want success or ErrExists", id, i, err)
			case calls[i].Load() != 0:
				t.Errorf("%s: backup %d was refused after its producer ran", id, i)
			}
		}
		if ok != 1 {
			t.Fatalf("%s: %d backups succeeded (%v), want exactly 1", id, ok, errs)
		}
		if _, err := artefact.Verify(ctx, st, "pg/"+id+"/", nil); err != nil {
			t.Errorf("%s: verify the winner: %v", id, err)
		}
	}
}

// TestSecondBackupWithOneJobIDIsRefused runs a second backup with the job
// id of one that is running, then of one that failed: it is refused before
// it writes anything, and the first's objects stay as they were.
func TestSecondBackupWithOneJobIDIsRefused(t *testing.T) {
	srv := testenv.StartVersityGW(t)
	st, _ := newS3(t, srv, "")
	ctx := context.Background()
	boom := errors.New("pg_dump: connection lost")
	failing := func(calls *atomic.Int32) artefact.Producer {
		return func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			calls.Add(1)
			io.WriteString(w, strings.Repeat("x", 6<<20))
			return engine.Result{}, boom
		}
	}

	// While the first runs, a second (whose producer would fail and clean
	// up) is refused; the first then commits and verifies.
	release := make(chan struct{})
	running := make(chan struct{})
	var first, second atomic.Int32
	done := make(chan error, 1)
	go func() {
		_, err := artefact.Backup(ctx, st, backupOpts("job-r"), func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			close(running)
			<-release
			return dump(&first, 50000)(ctx, w, log)
		})
		done <- err
	}()
	<-running
	_, err := artefact.Backup(ctx, st, backupOpts("job-r"), failing(&second))
	close(release)
	if !errors.Is(err, artefact.ErrExists) || second.Load() != 0 {
		t.Errorf("second backup while the first runs: %v (producer ran %d times), want ErrExists before it runs", err, second.Load())
	}
	if err := <-done; err != nil {
		t.Fatalf("first backup: %v", err)
	}
	if _, err := artefact.Verify(ctx, st, "pg/job-r/", nil); err != nil {
		t.Errorf("verify the first backup: %v", err)
	}

	// After a failed first backup, a second is refused and touches nothing.
	var f1, f2 atomic.Int32
	if _, err := artefact.Backup(ctx, st, backupOpts("job-f"), failing(&f1)); !errors.Is(err, boom) {
		t.Fatalf("first backup: %v, want %v", err, boom)
	}
	before := objects(t, st, "pg/job-f/")
	if len(before) == 0 {
		t.Fatal("the failed backup left nothing: the test would prove nothing")
	}
	_, err = artefact.Backup(ctx, st, backupOpts("job-f"), dump(&f2, 100))
	if !errors.Is(err, artefact.ErrExists) || f2.Load() != 0 {
		t.Errorf("backup after a failed one: %v (producer ran %d times), want ErrExists before it runs", err, f2.Load())
	}
	if !strings.Contains(fmt.Sprint(err), "pg/job-f/") || !strings.Contains(fmt.Sprint(err), "another job id") {
		t.Errorf("refusal %q does not name the folder and what to do", err)
	}
	if after := objects(t, st, "pg/job-f/"); !maps.Equal(before, after) {
		t.Errorf("objects of the failed backup changed: %v, were %v", after, before)
	}

	// After a complete backup, too.
	var c2 atomic.Int32
	before = objects(t, st, "pg/job-r/")
	if _, err := artefact.Backup(ctx, st, backupOpts("job-r"), dump(&c2, 100)); !errors.Is(err, artefact.ErrExists) || c2.Load() != 0 {
		t.Errorf("backup after a complete one: %v, want ErrExists before it runs", err)
	}
	if after := objects(t, st, "pg/job-r/"); !maps.Equal(before, after) {
		t.Errorf("objects of the complete backup changed: %v, were %v", after, before)
	}
}
