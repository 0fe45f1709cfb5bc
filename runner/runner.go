package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/flock"
)

// Executor runs one job. Run returns the artefact path of a backup (or of
// the restored backup); progress may be called with the bytes streamed so
// far and the expected total (0 when unknown). Its error text is shown to a
// person: it must name what to fix and hold no credential (the runner also
// masks the job's storage credentials in it).
type Executor interface {
	Run(ctx context.Context, job dbbackup.Job, progress func(bytes, total int64)) (artefactPath string, err error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, job dbbackup.Job, progress func(bytes, total int64)) (string, error)

// Run calls f.
func (f ExecutorFunc) Run(ctx context.Context, job dbbackup.Job, progress func(bytes, total int64)) (string, error) {
	return f(ctx, job, progress)
}

// Options configure a runner.
type Options struct {
	// Journal is the folder shared with the hooks.
	Journal Journal
	// Executor runs the jobs.
	Executor Executor
	// Notify asks the charm to report (juju-exec); called after every
	// transition and progress update, never concurrently, coalesced. May be nil.
	Notify func(ctx context.Context) error
	// Poll is how often the journal is scanned for new jobs; 500ms when zero.
	Poll time.Duration
	// ProgressEvery is how often progress is written; 5s when zero.
	ProgressEvery time.Duration
	// Check, when set, checks the database; the runner runs it at start,
	// every CheckEvery, and when kicked, records the result (Journal.Health)
	// and notifies when it changes.
	Check func(ctx context.Context) error
	// CheckEvery is the period of Check; 30s when zero.
	CheckEvery time.Duration
	// Log receives one line per event; io.Discard when nil.
	Log io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ErrLocked is returned by Run when another runner holds the journal.
var ErrLocked = errors.New("another runner holds the journal")

// Alive reports whether a runner holds the journal's lock.
func Alive(j Journal) bool { return flock.Held(filepath.Join(j.Dir, "lock")) }

// PID returns the process id the running runner recorded, or 0.
func PID(j Journal) int {
	data, err := os.ReadFile(filepath.Join(j.Dir, "pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

type runner struct {
	opts    Options
	mu      sync.Mutex
	active  map[string]dbbackup.JobType
	wg      sync.WaitGroup
	notifyC chan struct{}
}

// Run holds the journal's lock, recovers what a dead runner left, and runs
// jobs until ctx ends or the journal folder is removed. Jobs still running
// when it stops are cancelled and recorded as interrupted.
func Run(ctx context.Context, opts Options) error {
	if opts.Poll == 0 {
		opts.Poll = 500 * time.Millisecond
	}
	if opts.ProgressEvery == 0 {
		opts.ProgressEvery = 5 * time.Second
	}
	if opts.CheckEvery == 0 {
		opts.CheckEvery = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Journal.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the journal: %w", err)
	}
	lock, err := flock.Take(filepath.Join(opts.Journal.Dir, "lock"))
	if errors.Is(err, flock.ErrHeld) {
		return ErrLocked
	}
	if err != nil {
		return fmt.Errorf("cannot lock the journal: %w", err)
	}
	defer lock.Close()
	if err := writeFileAtomic(filepath.Join(opts.Journal.Dir, "pid"), []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return fmt.Errorf("cannot record the pid: %w", err)
	}
	r := &runner{opts: opts, active: map[string]dbbackup.JobType{}, notifyC: make(chan struct{}, 1)}
	if err := r.recover(); err != nil {
		return err
	}
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	notifyCtx, stopNotify := context.WithCancel(context.WithoutCancel(ctx))
	notified := make(chan struct{})
	go r.notifier(notifyCtx, notified)
	r.notify()
	defer func() {
		cancelJobs()
		r.wg.Wait()
		stopNotify()
		<-notified
	}()
	t := time.NewTicker(opts.Poll)
	defer t.Stop()
	var lastCheck time.Time
	for {
		if _, err := os.Stat(opts.Journal.Dir); errors.Is(err, os.ErrNotExist) {
			return nil // the unit is gone
		}
		kicked := opts.Journal.kicked()
		if kicked || time.Since(lastCheck) >= opts.CheckEvery {
			lastCheck = time.Now()
			r.check(ctx)
		}
		if kicked {
			r.notify()
		}
		if err := r.scan(jobCtx); err != nil {
			fmt.Fprintf(opts.Log, "%v\n", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// recover marks the jobs a dead runner left running as interrupted.
func (r *runner) recover() error {
	recs, err := r.opts.Journal.Load()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if rec.Status != dbbackup.Running {
			continue
		}
		rec.Status, rec.Message, rec.Finished = dbbackup.Error, MsgInterrupted, r.opts.Now().UTC()
		if err := r.opts.Journal.Put(rec); err != nil {
			return err
		}
		fmt.Fprintf(r.opts.Log, "job %s: %s\n", rec.JobID, MsgInterrupted)
	}
	return nil
}

// scan starts the pending jobs the local locks allow, in submission order.
func (r *runner) scan(ctx context.Context) error {
	recs, err := r.opts.Journal.Load()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		if rec.Status != dbbackup.Pending || r.active[rec.JobID] != "" {
			continue
		}
		if !r.admit(rec.Type) {
			if rec.Type == dbbackup.Restore {
				break // first in, first out: nothing overtakes a waiting restore
			}
			continue
		}
		r.active[rec.JobID] = rec.Type
		r.wg.Add(1)
		go r.run(ctx, rec)
	}
	return nil
}

// admit applies the local locks; r.mu is held.
func (r *runner) admit(t dbbackup.JobType) bool {
	for _, at := range r.active {
		if t == dbbackup.Restore || at == dbbackup.Restore {
			return false
		}
	}
	return true
}

func (r *runner) notify() {
	select {
	case r.notifyC <- struct{}{}:
	default:
	}
}

// notifier calls Notify once per burst of transitions.
func (r *runner) notifier(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			// one last report of the final states
			if r.opts.Notify != nil {
				select {
				case <-r.notifyC:
					nctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					r.callNotify(nctx)
					cancel()
				default:
				}
			}
			return
		case <-r.notifyC:
			if r.opts.Notify != nil {
				r.callNotify(ctx)
			}
		}
	}
}

func (r *runner) callNotify(ctx context.Context) {
	if err := r.opts.Notify(ctx); err != nil {
		fmt.Fprintf(r.opts.Log, "cannot report: %v (the next update-status will)\n", err)
	}
}

// check runs Options.Check and records a change of health.
func (r *runner) check(ctx context.Context) {
	if r.opts.Check == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err := r.opts.Check(cctx)
	cancel()
	h := Health{OK: err == nil, Checked: r.opts.Now().UTC()}
	if err != nil {
		h.Message = oneLine(err.Error())
	}
	old, known := r.opts.Journal.Health()
	if err := r.opts.Journal.setHealth(h); err != nil {
		fmt.Fprintf(r.opts.Log, "cannot record health: %v\n", err)
		return
	}
	if !known || old.OK != h.OK || old.Message != h.Message {
		fmt.Fprintf(r.opts.Log, "health: ok=%t %s\n", h.OK, h.Message)
		r.notify()
	}
}
