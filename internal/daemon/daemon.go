// Package daemon keeps one background process per folder for a charm: the
// provider unit's job runner and the manager's schedule ticker. A daemon
// holds an flock(2) on its lock file while it lives (the kernel drops it
// when the process dies, so a crashed daemon never looks alive) and
// records its pid beside it. Start launches a daemon detached from the
// hook that starts it, or as a systemd service (StartService); Stop ends
// either. WriteFile is the atomic, fsynced write its state files use.
package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/internal/flock"
	"github.com/dbbackup/dbbackup/internal/jujuexec"
)

// ErrRunning is returned by Hold when another process is the daemon.
var ErrRunning = errors.New("another process holds the daemon's lock")

// Default file names in a daemon's folder.
const (
	defaultLock = "lock"
	defaultPID  = "pid"
	// serviceRecord holds the name of the systemd service that runs the
	// daemon, so that Stop finds it.
	serviceRecord = "service"
)

// startWait bounds how long Start waits for the new process to hold the
// lock; stopPoll spaces Stop's checks; killWait is how long a SIGKILLed
// daemon may take to let go of its lock (the kernel frees it when the
// process is reaped, which a loaded machine can delay past a second).
const (
	startWait = 5 * time.Second
	stopPoll  = 20 * time.Millisecond
	killWait  = 5 * time.Second
)

// Daemon is the background process of one folder.
type Daemon struct {
	// Dir is the folder: it holds the lock, the pid and the log.
	Dir string
	// Name names the daemon in errors ("the runner").
	Name string
	// LockFile is the lock's file name in Dir; "lock" when empty.
	LockFile string
	// PIDFile is the pid's file name in Dir; "pid" when empty.
	PIDFile string
	// LogFile is the file name in Dir that a process started by Start
	// appends its output to; Name + ".log" when empty.
	LogFile string
}

func (d Daemon) lockPath() string { return filepath.Join(d.Dir, or(d.LockFile, defaultLock)) }
func (d Daemon) pidPath() string  { return filepath.Join(d.Dir, or(d.PIDFile, defaultPID)) }

// LogPath is the file a process started by Start writes its output to.
func (d Daemon) LogPath() string {
	return filepath.Join(d.Dir, or(d.LogFile, strings.ReplaceAll(or(d.Name, "daemon"), " ", "-")+".log"))
}

func (d Daemon) name() string { return or(d.Name, "the daemon") }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Alive reports whether a process holds the daemon's lock.
func (d Daemon) Alive() bool { return flock.Held(d.lockPath()) }

// PID returns the pid the daemon recorded, or 0. A recorded pid is only
// meaningful while Alive: a dead daemon's file stays behind.
func (d Daemon) PID() int {
	b, err := os.ReadFile(d.pidPath())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Hold makes the calling process the daemon: it takes the lock (ErrRunning
// when another process holds it) and records its pid. The daemon stays
// until the returned Closer is closed or the process ends.
func (d Daemon) Hold() (io.Closer, error) {
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the folder of %s: %w", d.name(), err)
	}
	lock, err := flock.Take(d.lockPath())
	if errors.Is(err, flock.ErrHeld) {
		return nil, ErrRunning
	}
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", d.lockPath(), err)
	}
	if err := WriteFile(d.pidPath(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		lock.Close()
		return nil, fmt.Errorf("cannot record the pid of %s: %w", d.name(), err)
	}
	return lock, nil
}

// Start runs exe with args as the daemon unless one is alive: in a
// session of its own, so that it outlives the hook, without the hook's
// context (jujuexec.Start), its output appended to LogPath. It waits until
// the new process holds the lock, or until it ends (another process won
// the lock: that one serves). It returns the error of a daemon that did
// not start, naming the log.
func (d Daemon) Start(exe string, args []string) error {
	if d.Alive() {
		return nil
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return fmt.Errorf("cannot start %s: %w", d.name(), err)
	}
	cmd, err := jujuexec.Start(exe, args, d.LogPath())
	if err != nil {
		return fmt.Errorf("cannot start %s: %w", d.name(), err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { // reap it if it ends while the caller lives
		cmd.Wait()
		close(exited)
	}()
	for deadline := time.Now().Add(startWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if d.PID() == pid && d.Alive() {
			return nil
		}
		select {
		case <-exited:
			deadline = time.Time{}
		default:
		}
	}
	if d.Alive() {
		return nil
	}
	return fmt.Errorf("cannot start %s: it did not take its lock (see %s)", d.name(), d.LogPath())
}

// Stop ends the daemon: a systemd service that StartService recorded is
// disabled and removed; a process gets SIGTERM, then SIGKILL once grace
// has passed, and Stop returns once no process holds the lock (at most
// killWait after the SIGKILL). A successor that takes the lock while the
// daemon stops (a hook that found it gone and started it again) is
// stopped too, up to maxSuccessors of them.
func (d Daemon) Stop(grace time.Duration) error {
	if name, err := os.ReadFile(filepath.Join(d.Dir, serviceRecord)); err == nil {
		return d.stopService(strings.TrimSpace(string(name)))
	}
	var err error
	for range maxSuccessors + 1 {
		if !d.Alive() {
			return nil
		}
		pid := d.PID()
		if pid <= 0 {
			return fmt.Errorf("cannot stop %s: no pid recorded in %s", d.name(), d.pidPath())
		}
		if err = d.stopProcess(pid, grace); !errors.Is(err, errSuccessor) {
			return err
		}
	}
	return fmt.Errorf("cannot stop %s: it was started again %d times while it stopped", d.name(), maxSuccessors+1)
}

// maxSuccessors bounds the successors Stop stops after the daemon.
const maxSuccessors = 3

// errSuccessor: another process holds the lock now.
var errSuccessor = errors.New("another process took the lock")

// stopProcess signals pid and waits until the lock is free (nil), or held
// by another process (errSuccessor).
func (d Daemon) stopProcess(pid int, grace time.Duration) error {
	gone := func() (bool, error) {
		if !d.Alive() {
			return true, nil
		}
		if now := d.PID(); now > 0 && now != pid {
			return true, errSuccessor
		}
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("cannot stop %s (pid %d): %w", d.name(), pid, err)
	}
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(stopPoll) {
		if done, err := gone(); done {
			return err
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(killWait); time.Now().Before(deadline); time.Sleep(stopPoll) {
		if done, err := gone(); done {
			return err
		}
	}
	return fmt.Errorf("cannot stop %s (pid %d): it still holds its lock after SIGKILL", d.name(), pid)
}
