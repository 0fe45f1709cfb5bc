package backupagent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/runner"
)

// ArchiverState is what the runner knows of the log archiver, for the
// unit's status.
type ArchiverState struct {
	// Running: the archiver process is up (PID, since Since).
	Running bool      `json:"running"`
	PID     int       `json:"pid,omitempty"`
	Since   time.Time `json:"since,omitempty"`
	// Restarts counts the times it died and was started again.
	Restarts int `json:"restarts,omitempty"`
	// LastError is the last line the archiver wrote before it died,
	// credentials masked.
	LastError string `json:"last-error,omitempty"`
	// LastUpload and LastFile are the archiver's last stored file.
	LastUpload time.Time `json:"last-upload,omitempty"`
	LastFile   string    `json:"last-file,omitempty"`
	// Lag is the archiver's last measurement of its lag; nil before the
	// first.
	Lag *ArchiveLag `json:"lag,omitempty"`
}

// ReadArchiverState reads what the runner and the archiver recorded; the
// zero state when the archiver never ran.
func ReadArchiverState(j runner.Journal) ArchiverState {
	var s ArchiverState
	_ = j.Value(archiverStateValue, &s)
	var u upload
	if j.Value(archiverUploadValue, &u) == nil {
		s.LastUpload, s.LastFile = u.At, u.File
	}
	if l, ok := readLag(j); ok {
		s.Lag = &l
	}
	return s
}

// Bounds of the archiver's restarts: the first after a second, doubling
// to a minute; a run of a minute without dying resets the delay.
var (
	archiverBackoffMin = time.Second
	archiverBackoffMax = time.Minute
	archiverStopGrace  = 30 * time.Second
)

// archiverWant is the archiver the journal asks for: empty when none.
// Its value changes when the database or the storage does, and the
// archiver is then restarted with them.
func archiverWant(j runner.Journal) string {
	if !readArchiving(j).On {
		return ""
	}
	db, err := ReadDatabase(j)
	if err != nil {
		return ""
	}
	job, err := j.JobValue(archiveJobValue)
	if err != nil {
		return ""
	}
	// A fingerprint, never shown: the whole database and job.
	data, _ := json.Marshal(struct {
		DB  Database
		Job string
		S   any
	}{db, job.ID, [2]string{job.Storage.AccessKey, job.Storage.SecretKey}})
	return string(data)
}

// superviseArchiver runs the log archiver (exe ArchiverCommand) while the
// journal asks for one, restarting it with a bounded backoff when it dies
// and when what it archives changes, until ctx ends; then it stops it
// (SIGTERM, SIGKILL after archiverStopGrace). The archiver dies with the
// runner (a parent-death signal), so a SIGKILLed runner leaves none
// behind; both resume where the archive stands. With no archiver wanted
// and archive-logs off, it drops the WAL archiver's replication slot
// (releaser).
func superviseArchiver(ctx context.Context, j runner.Journal, exe, scope string, poll time.Duration, out *os.File, log io.Writer, notify func()) {
	var (
		cmd     *exec.Cmd
		exited  chan error
		running string
		backoff = archiverBackoffMin
		next    time.Time
		started time.Time
		state   = ReadArchiverState(j)
		release releaser
	)
	state.Running, state.PID = false, 0
	save := func() {
		s := state
		s.LastUpload, s.LastFile, s.Lag = time.Time{}, "", nil
		if changed, err := j.SetValue(archiverStateValue, s); err != nil {
			fmt.Fprintf(log, "%v\n", err)
		} else if changed {
			notify()
		}
	}
	save()
	stop := func() {
		if cmd == nil {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(archiverStopGrace):
			_ = cmd.Process.Kill()
			<-exited
		}
		killGroup(cmd.Process.Pid)
		fmt.Fprintf(log, "archiver stopped\n")
		cmd, running = nil, ""
		state.Running, state.PID = false, 0
		save()
	}
	defer stop()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		want := archiverWant(j)
		if cmd != nil {
			select {
			case err := <-exited:
				killGroup(cmd.Process.Pid) // what it started dies with it
				if healthy := time.Since(started) >= archiverBackoffMax; healthy {
					backoff = archiverBackoffMin
				}
				state.Running, state.PID, state.Restarts = false, 0, state.Restarts+1
				state.LastError = archiverExit(j, err)
				fmt.Fprintf(log, "archiver died: %s; restarting in %s\n", state.LastError, backoff)
				next = time.Now().Add(backoff)
				backoff = min(2*backoff, archiverBackoffMax)
				cmd, running = nil, ""
				save()
			default:
			}
		}
		if cmd != nil && want != running {
			stop() // off, or a new database or storage
		}
		if cmd == nil && want != "" && !time.Now().Before(next) {
			_ = os.Remove(filepath.Join(j.Dir, archiverExitValue))
			c := exec.Command(exe, ArchiverCommand, "--state", j.Dir, "--scope", scope)
			c.Stdout, c.Stderr = out, out
			// Its own process group (the tools it starts die with it),
			// and it dies with the runner.
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			if err := c.Start(); err != nil {
				state.LastError = fmt.Sprintf("cannot start the archiver: %v", err)
				next = time.Now().Add(backoff)
				save()
			} else {
				cmd, running, started = c, want, time.Now()
				release = releaser{} // off again: drop the slot again
				exited = make(chan error, 1)
				go func() { exited <- c.Wait() }()
				state.Running, state.PID, state.Since = true, c.Process.Pid, started.UTC()
				fmt.Fprintf(log, "archiver started (pid %d)\n", c.Process.Pid)
				save()
			}
		}
		if cmd == nil && want == "" {
			release.step(ctx, j, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// killGroup kills what is left of the archiver's process group.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// archiverExitValue is where the archiver records why it failed.
const archiverExitValue = "archiver-exit.json"

// archiverExit says why the archiver ended: the error it recorded, or how
// it exited (a signal leaves no record).
func archiverExit(j runner.Journal, waitErr error) string {
	var rec struct {
		Error string `json:"error"`
	}
	if j.Value(archiverExitValue, &rec) == nil && rec.Error != "" {
		return rec.Error
	}
	if waitErr == nil {
		return "the archiver exited"
	}
	return "the archiver ended: " + waitErr.Error()
}
