package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
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
	var check <-chan time.Time
	if spec.WarnRetained > 0 {
		t := time.NewTicker(spec.CheckEvery)
		defer t.Stop()
		check = t.C
	}
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
			stop = e.startReceiver(ctx, spec, done)
		case <-check:
			e.checkRetained(ctx, spec)
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

// uploader puts what pg_receivewal finished into the archive.
type uploader struct {
	spool string
	arch  WALArchive
	log   io.Writer
	// uploaded names the finished segment kept in the spool after its
	// upload (see flush).
	uploaded map[string]bool
	// sent records the partial segment last uploaded, by size and time.
	sentName string
	sentMod  time.Time
	sentSize int64
}

// flush uploads every finished file of the spool, in name order (history
// files first), removing each after its upload but the newest segment;
// with partial, the segment being written too, when it changed since its
// last upload.
func (u *uploader) flush(ctx context.Context, partial bool) error {
	ents, err := os.ReadDir(u.spool)
	if err != nil {
		return fmt.Errorf("cannot read the WAL spool %s: %w", u.spool, err)
	}
	var finished, partials []string
	for _, e := range ents {
		n := e.Name()
		switch {
		case historyName.MatchString(n) || segmentName.MatchString(n):
			finished = append(finished, n)
		case strings.HasSuffix(n, ".partial") && segmentName.MatchString(strings.TrimSuffix(n, ".partial")):
			partials = append(partials, n)
		}
	}
	sort.Slice(finished, func(i, j int) bool {
		hi, hj := strings.HasSuffix(finished[i], ".history"), strings.HasSuffix(finished[j], ".history")
		if hi != hj {
			return hi
		}
		return finished[i] < finished[j]
	})
	// The newest finished segment stays in the spool once archived:
	// pg_receivewal starts after the newest segment it finds there. Only
	// from PostgreSQL 15 does it otherwise start at the slot's position;
	// an older one would start at the server's current position and leave
	// a gap.
	newest := ""
	for _, n := range finished {
		if segmentName.MatchString(n) {
			newest = n
		}
	}
	for _, n := range finished {
		if !u.uploaded[n] {
			if err := u.put(ctx, n, n, false); err != nil {
				return err
			}
		}
		if n == newest {
			u.uploaded = map[string]bool{n: true}
			continue
		}
		if err := os.Remove(filepath.Join(u.spool, n)); err != nil {
			return fmt.Errorf("cannot remove archived %s from the spool: %w", n, err)
		}
	}
	if !partial {
		return nil
	}
	sort.Strings(partials)
	for _, p := range partials {
		fi, err := os.Stat(filepath.Join(u.spool, p))
		if errors.Is(err, os.ErrNotExist) {
			continue // finished meanwhile: the next flush uploads it
		}
		if err != nil {
			return fmt.Errorf("cannot read %s in the spool: %w", p, err)
		}
		if p == u.sentName && fi.ModTime().Equal(u.sentMod) && fi.Size() == u.sentSize {
			continue
		}
		if err := u.put(ctx, p, strings.TrimSuffix(p, ".partial"), true); err != nil {
			return err
		}
		u.sentName, u.sentMod, u.sentSize = p, fi.ModTime(), fi.Size()
	}
	return nil
}

// put uploads the spool's file as name.
func (u *uploader) put(ctx context.Context, file, name string, partial bool) error {
	f, err := os.Open(filepath.Join(u.spool, file))
	if errors.Is(err, os.ErrNotExist) && partial {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read %s in the spool: %w", file, err)
	}
	defer f.Close()
	if err := u.arch.Put(ctx, name, partial, f); err != nil {
		return fmt.Errorf("cannot archive %s%s: %w", name, partialNote(partial), err)
	}
	logf(u.log, "dbbackup: archived %s%s", name, partialNote(partial))
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

// checkRetained logs a warning when the slot holds back more WAL than
// spec.WarnRetained.
func (e *Engine) checkRetained(ctx context.Context, spec ArchiveSpec) {
	out, err := e.query(ctx, "postgres", `SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint FROM pg_replication_slots WHERE slot_name = :'slot'`, "slot="+spec.Slot)
	if err != nil {
		if ctx.Err() == nil {
			logf(spec.Log, "dbbackup: cannot read how much WAL replication slot %q holds: %v", spec.Slot, err)
		}
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil || n <= spec.WarnRetained {
		return
	}
	logf(spec.Log, "dbbackup: warning: replication slot %q holds %d bytes of WAL on the server that the archiver has not confirmed (the limit is %d): the server keeps it until the archiver catches up", spec.Slot, n, spec.WarnRetained)
}
