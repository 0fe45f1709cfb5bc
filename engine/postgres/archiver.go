package postgres

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/engine/internal/tool"
)

// ArchiveSpec says how ArchiveWAL runs.
type ArchiveSpec struct {
	// Spool is the folder pg_receivewal writes into. It is kept across
	// restarts: what was received but not yet uploaded when the archiver
	// stopped is uploaded when it starts again. One archiver at a time
	// may use it (a lock file inside says so).
	Spool string
	// Slot is the physical replication slot that keeps the server's WAL
	// until pg_receivewal has it on disk; made when missing.
	Slot string
	// PartialEvery is how often the segment being written is uploaded
	// (as a partial file) when it has grown; 0 means 10 s.
	PartialEvery time.Duration
	// Poll is how often the spool is scanned for finished segments; 0
	// means 1 s.
	Poll time.Duration
	// WarnRetained, when positive, is how much WAL (bytes) the slot may
	// hold back on the server before the archiver logs a warning: the
	// server keeps what the archiver has not confirmed, and a disk fills
	// while the archiver cannot keep up or upload. Checked every
	// CheckEvery (0: a minute).
	WarnRetained int64
	CheckEvery   time.Duration
	// Progress, when set, receives the archive's lag and the slot's
	// retained WAL, measured every ProgressEvery (0: 10 s) with one query.
	Progress      func(ArchiveProgress)
	ProgressEvery time.Duration
	// Log receives pg_receivewal's log (password masked) and a line per
	// upload.
	Log io.Writer
}

var slotName = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// CheckSlotName refuses a name PostgreSQL does not take for a slot.
func CheckSlotName(s string) error {
	if !slotName.MatchString(s) {
		return fmt.Errorf("replication slot name %q must be 1-63 lower-case letters, digits and underscores", s)
	}
	return nil
}

// ArchiveWAL streams the server's WAL into the archive until ctx is
// cancelled: pg_receivewal, through replication slot spec.Slot, writes
// segments into spec.Spool; each finished segment and timeline history
// file is put into arch and then removed from the spool (but the newest
// segment, from which a restarted pg_receivewal goes on), and the segment
// being written is put as a partial file every spec.PartialEvery while
// it grows. pg_receivewal is restarted when it stops (the server
// restarted, the connection dropped), after a pause. When ctx is
// cancelled, pg_receivewal is stopped and everything in the spool is
// uploaded, the partial segment included; ArchiveWAL returns nil when
// that succeeded.
func (e *Engine) ArchiveWAL(ctx context.Context, spec ArchiveSpec, arch WALArchive) error {
	if err := CheckSlotName(spec.Slot); err != nil {
		return err
	}
	if spec.PartialEvery <= 0 {
		spec.PartialEvery = 10 * time.Second
	}
	if spec.Poll <= 0 {
		spec.Poll = time.Second
	}
	if err := os.MkdirAll(spec.Spool, 0o700); err != nil {
		return fmt.Errorf("cannot make the WAL spool %s: %w", spec.Spool, err)
	}
	unlock, err := lockSpool(spec.Spool)
	if err != nil {
		return err
	}
	defer unlock()
	if err := e.createSlot(ctx, spec); err != nil {
		return err
	}
	u := &uploader{spool: spec.Spool, arch: arch, log: spec.Log}
	done := make(chan error, 1)
	stop := e.startReceiver(ctx, spec, done)
	tick := time.NewTicker(spec.Poll)
	defer tick.Stop()
	if spec.CheckEvery <= 0 {
		spec.CheckEvery = time.Minute
	}
	if spec.ProgressEvery <= 0 {
		spec.ProgressEvery = 10 * time.Second
	}
	var check <-chan time.Time
	if spec.WarnRetained > 0 || spec.Progress != nil {
		every := spec.CheckEvery
		if spec.Progress != nil {
			every = min(every, spec.ProgressEvery)
		}
		t := time.NewTicker(every)
		defer t.Stop()
		check = t.C
	}
	var warned time.Time
	lastPartial := time.Time{}
	var restart <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			stop()
			fin, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := u.flush(fin, true); err != nil {
				return fmt.Errorf("cannot upload the last WAL before stopping: %w", err)
			}
			logf(spec.Log, "dbbackup: archiver stopped; every WAL file received is archived")
			return nil
		case err := <-done:
			logf(spec.Log, "dbbackup: pg_receivewal stopped (%v); restarting in %s", err, 5*spec.Poll)
			restart = time.After(5 * spec.Poll)
		case <-restart:
			restart = nil
			// The slot may be gone: a data directory restored from a
			// base backup has none (pg_basebackup copies no slot).
			if err := e.createSlot(ctx, spec); err != nil {
				logf(spec.Log, "dbbackup: %v; trying again in %s", err, 5*spec.Poll)
				restart = time.After(5 * spec.Poll)
				continue
			}
			stop = e.startReceiver(ctx, spec, done)
		case <-check:
			// The check runs psql (9-11 MiB of libraries) beside the
			// archiver; the heap the last upload grew goes back to the
			// system first, so that the two never add up (uploads run
			// in this loop too, never during the check).
			debug.FreeOSMemory()
			p := e.measure(ctx, spec, u, time.Now())
			if ctx.Err() != nil {
				continue
			}
			if spec.Progress != nil {
				spec.Progress(p)
			}
			if spec.WarnRetained > 0 && time.Since(warned) >= spec.CheckEvery {
				warned = time.Now()
				warnRetained(spec, p)
			}
		case <-tick.C:
			partial := time.Since(lastPartial) >= spec.PartialEvery
			if err := u.flush(ctx, partial); err != nil && ctx.Err() == nil {
				logf(spec.Log, "dbbackup: %v (trying again)", err)
			}
			if partial {
				lastPartial = time.Now()
			}
		}
	}
}

// createSlot makes the replication slot when it is missing.
func (e *Engine) createSlot(ctx context.Context, spec ArchiveSpec) error {
	c, err := e.cmd("pg_receivewal", "postgres", "--create-slot", "--if-not-exists", "--slot="+spec.Slot)
	if err != nil {
		return err
	}
	c.Log = spec.Log
	if _, err := tool.Output(ctx, c); err != nil {
		return fmt.Errorf("cannot create replication slot %q: %w", spec.Slot, err)
	}
	return nil
}

// startReceiver starts pg_receivewal; its end is sent on done. The
// returned stop ends it (SIGINT, then SIGKILL after 5 s) and waits.
func (e *Engine) startReceiver(ctx context.Context, spec ArchiveSpec, done chan<- error) (stop func()) {
	rctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		err := e.receive(rctx, spec)
		if rctx.Err() == nil {
			done <- err
		}
	}()
	return func() {
		cancel()
		<-ended
	}
}

// receive runs pg_receivewal until it ends or ctx is cancelled.
func (e *Engine) receive(ctx context.Context, spec ArchiveSpec) error {
	p, err := e.path("pg_receivewal")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, p, "--no-password", "--directory="+spec.Spool, "--slot="+spec.Slot,
		"--no-loop", "--verbose", "--status-interval=1")
	cmd.Env = append(os.Environ(), e.env("postgres")...)
	cmd.SysProcAttr = receiverAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("cannot run pg_receivewal: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot run pg_receivewal: %w", err)
	}
	last := copyLines(stderr, spec.Log, e.conn.Password)
	err = cmd.Wait()
	if err != nil {
		return fmt.Errorf("pg_receivewal: %v: %s", err, <-last)
	}
	return fmt.Errorf("pg_receivewal ended: %s", <-last)
}

// copyLines copies r to log line by line, masking secret, and sends the
// last line on the returned channel when r ends.
func copyLines(r io.Reader, log io.Writer, secret string) <-chan string {
	last := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var l string
		for sc.Scan() {
			l = sc.Text()
			if secret != "" {
				l = strings.ReplaceAll(l, secret, "***")
			}
			if log != nil {
				fmt.Fprintln(log, l)
			}
		}
		_, _ = io.Copy(io.Discard, r)
		last <- l
	}()
	return last
}

// lockSpool takes the spool's lock file, so that two archivers never
// share one spool.
func lockSpool(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "dbbackup.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the WAL spool %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock the WAL spool %s: another archiver uses it (%v)", dir, err)
	}
	return func() { f.Close() }, nil
}

// warnRetained logs a warning when the slot holds back more WAL than
// spec.WarnRetained, or lost WAL it needed.
func warnRetained(spec ArchiveSpec, p ArchiveProgress) {
	switch {
	case p.Err != nil:
		logf(spec.Log, "dbbackup: cannot read how much WAL replication slot %q holds: %v", spec.Slot, p.Err)
	case p.SlotStatus == "lost":
		logf(spec.Log, "dbbackup: warning: replication slot %q lost WAL it needed (wal_status lost, max_slot_wal_keep_size): the archive has a gap; take a new base backup", spec.Slot)
	case p.SlotRetained > spec.WarnRetained:
		logf(spec.Log, "dbbackup: warning: replication slot %q holds %d bytes of WAL on the server that the archiver has not confirmed (the limit is %d): the server keeps it until the archiver catches up", spec.Slot, p.SlotRetained, spec.WarnRetained)
	}
}
