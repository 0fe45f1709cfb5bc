package runner_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/runner"
)

const canary = "CANARY-secret-7f3a"

func job(id string, t dbbackup.JobType) dbbackup.Job {
	j := dbbackup.Job{ID: id, Type: t, StorageInterface: dbbackup.StorageS3, Config: &dbbackup.JobConfig{Compression: true},
		Storage: dbbackup.StorageConfig{Bucket: "bk", Credentials: dbbackup.Credentials{AccessKey: "AK", SecretKey: canary}}}
	if t == dbbackup.Restore {
		j.ArtefactPath = "agent/b0/"
	}
	return j
}

// fake is an executor whose jobs block until released, and which records
// the time span of each job.
type fake struct {
	mu       sync.Mutex
	gates    map[string]chan error
	started  chan string
	spans    map[string][2]time.Time
	running  int
	overlaps [][]string // who ran beside a restore
	active   map[string]dbbackup.JobType
}

func newFake() *fake {
	return &fake{gates: map[string]chan error{}, started: make(chan string, 100), spans: map[string][2]time.Time{}, active: map[string]dbbackup.JobType{}}
}

func (f *fake) gate(id string) chan error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.gates[id]
	if !ok {
		g = make(chan error, 1)
		f.gates[id] = g
	}
	return g
}

func (f *fake) Run(ctx context.Context, j dbbackup.Job, progress func(int64, int64)) (string, error) {
	f.mu.Lock()
	for id, t := range f.active {
		if t == dbbackup.Restore || j.Type == dbbackup.Restore {
			f.overlaps = append(f.overlaps, []string{id, j.ID})
		}
	}
	f.active[j.ID] = j.Type
	f.spans[j.ID] = [2]time.Time{time.Now()}
	f.mu.Unlock()
	f.started <- j.ID
	progress(120e6, 0)
	var err error
	select {
	case err = <-f.gate(j.ID):
	case <-ctx.Done():
		err = ctx.Err()
	}
	f.mu.Lock()
	delete(f.active, j.ID)
	s := f.spans[j.ID]
	s[1] = time.Now()
	f.spans[j.ID] = s
	f.mu.Unlock()
	if err != nil {
		return "", err
	}
	return "agent/" + j.ID + "/", nil
}

type harness struct {
	t      *testing.T
	j      runner.Journal
	f      *fake
	notes  atomic.Int64
	cancel context.CancelFunc
	done   chan error
	logs   strings.Builder
	logsMu sync.Mutex
}

func (h *harness) Write(p []byte) (int, error) {
	h.logsMu.Lock()
	defer h.logsMu.Unlock()
	return h.logs.Write(p)
}

func start(t *testing.T, dir string) *harness {
	t.Helper()
	h := &harness{t: t, j: runner.Journal{Dir: dir}, f: newFake(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- runner.Run(ctx, runner.Options{Journal: h.j, Executor: h.f, Poll: 10 * time.Millisecond,
			ProgressEvery: 20 * time.Millisecond, Log: h,
			Notify: func(context.Context) error { h.notes.Add(1); return nil }})
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("the runner did not stop")
	}
}

func (h *harness) submit(j dbbackup.Job) {
	h.t.Helper()
	if _, err := h.j.Submit(j, time.Now()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) waitStarted(want string) {
	h.t.Helper()
	select {
	case got := <-h.f.started:
		if got != want {
			h.t.Fatalf("started %s, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatalf("job %s did not start", want)
	}
}

func (h *harness) notStarted(d time.Duration) {
	h.t.Helper()
	select {
	case got := <-h.f.started:
		h.t.Fatalf("job %s started, want none", got)
	case <-time.After(d):
	}
}

func (h *harness) waitState(id string, want dbbackup.Status) runner.Record {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := h.j.Get(id)
		if err == nil && r.Status == want {
			return r
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("job %s: state %q (%v), want %s", id, r.Status, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunSuccessAndError(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.waitStarted("b1")
	r := h.waitState("b1", dbbackup.Running)
	if r.Started.IsZero() {
		t.Error("running job without a start time")
	}
	h.f.gate("b1") <- nil
	r = h.waitState("b1", dbbackup.Success)
	if r.ArtefactPath != "agent/b1/" || r.Finished.IsZero() || r.Bytes != 120e6 {
		t.Errorf("record = %+v", r)
	}
	h.submit(job("b2", dbbackup.Backup))
	h.waitStarted("b2")
	h.f.gate("b2") <- fmt.Errorf("cannot upload with key %s:\nAccess Denied", canary)
	r = h.waitState("b2", dbbackup.Error)
	if want := "cannot upload with key ***: Access Denied"; r.Message != want {
		t.Errorf("message = %q, want %q", r.Message, want)
	}
	if h.notes.Load() == 0 {
		t.Error("Notify never called")
	}
	h.stop()
	h.logsMu.Lock()
	defer h.logsMu.Unlock()
	if strings.Contains(h.logs.String(), canary) {
		t.Errorf("log holds the secret: %s", h.logs.String())
	}
}

func TestSubmitTwiceRunsOnce(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.waitStarted("b1")
	h.submit(job("b1", dbbackup.Backup))
	h.f.gate("b1") <- nil
	h.waitState("b1", dbbackup.Success)
	h.submit(job("b1", dbbackup.Backup))
	h.notStarted(100 * time.Millisecond)
}

func TestBackupsOverlapRestoresDoNot(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.submit(job("b2", dbbackup.Backup))
	got := map[string]bool{}
	for range 2 {
		got[<-h.f.started] = true
	}
	if !got["b1"] || !got["b2"] {
		t.Fatalf("started %v, want b1 and b2 together", got)
	}
	h.submit(job("r1", dbbackup.Restore))
	h.submit(job("r2", dbbackup.Restore))
	h.submit(job("b3", dbbackup.Backup)) // behind the restores: waits
	h.notStarted(100 * time.Millisecond)
	h.f.gate("b1") <- nil
	h.notStarted(50 * time.Millisecond)
	h.f.gate("b2") <- nil
	h.waitStarted("r1")
	h.notStarted(100 * time.Millisecond)
	h.f.gate("r1") <- nil
	h.waitStarted("r2")
	h.f.gate("r2") <- nil
	h.waitStarted("b3")
	h.f.gate("b3") <- nil
	h.waitState("b3", dbbackup.Success)
	h.f.mu.Lock()
	defer h.f.mu.Unlock()
	if len(h.f.overlaps) > 0 {
		t.Errorf("jobs ran beside a restore: %v", h.f.overlaps)
	}
	b1, b2 := h.f.spans["b1"], h.f.spans["b2"]
	if !b1[0].Before(b2[1]) || !b2[0].Before(b1[1]) {
		t.Errorf("backups did not overlap: %v %v", b1, b2)
	}
}

func TestRecoverInterrupted(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	if _, err := j.Submit(job("b1", dbbackup.Backup), time.Now()); err != nil {
		t.Fatal(err)
	}
	r, _ := j.Get("b1")
	r.Status, r.Started = dbbackup.Running, time.Now()
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Submit(job("b2", dbbackup.Backup), time.Now()); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir)
	got := h.waitState("b1", dbbackup.Error)
	if got.Message != runner.MsgInterrupted {
		t.Errorf("message = %q", got.Message)
	}
	h.waitStarted("b2")
	h.f.gate("b2") <- nil
	h.waitState("b2", dbbackup.Success)
}

func TestStopInterruptsRunningJobs(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.waitStarted("b1")
	h.stop()
	r, err := h.j.Get("b1")
	if err != nil || r.Status != dbbackup.Error || !strings.Contains(r.Message, "interrupted") {
		t.Errorf("record = %+v, %v", r, err)
	}
	// One wording: a runner stopped mid-job and a runner that died say the same.
	if r.Message != runner.MsgInterrupted {
		t.Errorf("message = %q, want %q", r.Message, runner.MsgInterrupted)
	}
}

func TestOneRunnerPerJournal(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.waitStarted("b1")
	if !runner.Alive(h.j) {
		t.Error("Alive = false while a runner runs")
	}
	if runner.PID(h.j) != os.Getpid() {
		t.Errorf("PID = %d", runner.PID(h.j))
	}
	err := runner.Run(context.Background(), runner.Options{Journal: h.j, Executor: newFake()})
	if !errors.Is(err, runner.ErrLocked) {
		t.Errorf("second Run = %v, want ErrLocked", err)
	}
	h.f.gate("b1") <- nil
	h.stop()
	if runner.Alive(h.j) {
		t.Error("Alive = true after the runner stopped")
	}
}

func TestRunStopsWhenJournalRemoved(t *testing.T) {
	dir := t.TempDir() + "/j"
	h := start(t, dir)
	for deadline := time.Now().Add(10 * time.Second); runner.PID(h.j) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not start")
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		h.cancel()
		h.cancel = nil
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the runner did not stop when its journal was removed")
	}
}

func TestForget(t *testing.T) {
	j := runner.Journal{Dir: t.TempDir()}
	if _, err := j.Submit(job("b1", dbbackup.Backup), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := j.Forget("b1"); err == nil {
		t.Error("Forget of a pending job succeeded")
	}
	r, _ := j.Get("b1")
	r.Status = dbbackup.Success
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	if err := j.Forget("b1"); err != nil {
		t.Error(err)
	}
	recs, err := j.Load()
	if err != nil || len(recs) != 0 {
		t.Errorf("Load = %v, %v", recs, err)
	}
	if err := j.Forget("b1"); err != nil {
		t.Errorf("second Forget: %v", err)
	}
}

func TestJournalFileHoldsNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	for i := range 5 {
		if _, err := j.Submit(job(fmt.Sprintf("b%d", i), dbbackup.Backup), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(dir + "/jobs")
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			t.Errorf("left %s", e.Name())
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	recs, err := j.Load()
	if err != nil || len(recs) != 5 || recs[0].JobID != "b0" {
		t.Errorf("Load = %d records, %v", len(recs), err)
	}
	got, err := recs[0].Job()
	if err != nil || got.Storage.SecretKey != canary {
		t.Errorf("Job() = %+v, %v: the runner needs the credentials", got, err)
	}
}

func TestProgress(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		r    runner.Record
		now  time.Time
		want string
	}{
		{runner.Record{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Running, Started: t0, Bytes: 120e6}, t0.Add(2 * time.Second), "backup j1 120 MB at 60 MB/s"},
		{runner.Record{JobID: "j1", Type: dbbackup.Restore, Status: dbbackup.Running, Started: t0, Bytes: 43, Total: 100}, t0.Add(time.Second), "restore j1 43% 43 B at 43 B/s"},
		{runner.Record{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Running, Started: t0, Bytes: 3_200_000_000}, t0, "backup j1 3.2 GB"},
		{runner.Record{JobID: "j1", Type: dbbackup.Backup, Status: dbbackup.Pending}, t0, "backup j1 waiting"},
	}
	for _, tt := range tests {
		if got := runner.Progress(tt.r, tt.now); got != tt.want {
			t.Errorf("Progress(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestRunStates(t *testing.T) {
	recs := []runner.Record{
		{JobID: "p", Type: dbbackup.Backup, Status: dbbackup.Pending},
		{JobID: "r", Type: dbbackup.Backup, Status: dbbackup.Running, Message: "backup r 1 MB"},
		{JobID: "s", Type: dbbackup.Backup, Status: dbbackup.Success, ArtefactPath: "a/s/"},
		{JobID: "e", Type: dbbackup.Restore, Status: dbbackup.Error, Message: "boom"},
		{JobID: "u", Type: dbbackup.Backup, Status: "paused"},
	}
	got := runner.RunStates(recs)
	want := map[string]dbbackup.Status{"u": dbbackup.Running, "p": dbbackup.Running, "r": dbbackup.Running, "s": dbbackup.Success, "e": dbbackup.Error}
	for id, st := range want {
		if got[id].Status != st || !got[id].Started() {
			t.Errorf("%s: %+v, want %s", id, got[id], st)
		}
	}
	if got["s"].ArtefactPath != "a/s/" || got["e"].Message != "boom" {
		t.Errorf("got %+v", got)
	}
}

// TestSIGKILLMidJob kills a runner process with SIGKILL while it runs a
// job; the next runner reports the job interrupted and runs the next one.
func TestSIGKILLMidJob(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	if _, err := j.Submit(job("b1", dbbackup.Backup), time.Now()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUNNER_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, _ := j.Get("b1")
		if r.Status == dbbackup.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper runner did not start the job")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := j.Submit(job("b2", dbbackup.Backup), time.Now()); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir)
	if r := h.waitState("b1", dbbackup.Error); r.Message != runner.MsgInterrupted {
		t.Errorf("b1 message = %q", r.Message)
	}
	h.waitStarted("b2")
	h.f.gate("b2") <- nil
	h.waitState("b2", dbbackup.Success)
}

// TestMain runs this test binary as the runner process TestSIGKILLMidJob
// kills when RUNNER_HELPER_DIR is set, and the tests otherwise.
func TestMain(m *testing.M) {
	if dir := os.Getenv("RUNNER_HELPER_DIR"); dir != "" {
		helperRunner(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helperRunner runs a runner on dir whose jobs block until it is killed.
func helperRunner(dir string) {
	block := runner.ExecutorFunc(func(ctx context.Context, _ dbbackup.Job, _ func(int64, int64)) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	runner.Run(context.Background(), runner.Options{Journal: runner.Journal{Dir: dir}, Executor: block, Poll: 10 * time.Millisecond})
}

func TestKickAndHealth(t *testing.T) {
	dir := t.TempDir()
	j := runner.Journal{Dir: dir}
	var down atomic.Bool
	down.Store(true)
	var notes atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runner.Run(ctx, runner.Options{Journal: j, Executor: newFake(), Poll: 10 * time.Millisecond, CheckEvery: time.Hour,
			Notify: func(context.Context) error { notes.Add(1); return nil },
			Check: func(context.Context) error {
				if down.Load() {
					return errors.New("cannot connect to PostgreSQL at 127.0.0.1:1: connection refused")
				}
				return nil
			}})
	}()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("a failed check", func() bool {
		h, ok := j.Health()
		return ok && !h.OK && strings.Contains(h.Message, "connection refused")
	})
	before := notes.Load()
	down.Store(false)
	if err := j.Kick(); err != nil {
		t.Fatal(err)
	}
	waitFor("a passed check after a kick", func() bool { h, _ := j.Health(); return h.OK })
	waitFor("a notification", func() bool { return notes.Load() > before })
}

func TestProgressWhileRunning(t *testing.T) {
	h := start(t, t.TempDir())
	h.submit(job("b1", dbbackup.Backup))
	h.waitStarted("b1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := h.j.Get("b1")
		if strings.HasPrefix(r.Message, "backup b1 120 MB") && r.Bytes == 120e6 {
			if got := runner.RunStates([]runner.Record{r})["b1"]; got.Message != r.Message || got.Status != dbbackup.Running {
				t.Errorf("RunStates = %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress in the journal: %+v", r)
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.f.gate("b1") <- nil
	if r := h.waitState("b1", dbbackup.Success); r.Message != "" {
		t.Errorf("finished job keeps message %q", r.Message)
	}
}
