package manager

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/internal/daemon"
	"github.com/dbbackup/dbbackup/internal/jujuexec"
	"github.com/dbbackup/dbbackup/metrics"
)

// The ticker makes a scheduled backup come within a minute of its time,
// when Juju's hooks come only every update-status interval (5 minutes by
// default). The leader's hooks write the next due time to a file and keep
// one ticker process alive; the ticker sleeps until that time and then
// runs this binary in the unit's hook context through juju-exec, where
// the schedule's rules (runSchedule) decide. It also serves the leader's
// metrics (metrics.go). It exits when the due file and the metrics are
// both gone: the unit is no longer the leader, or neither a schedule nor
// the metrics remain. It is an internal/daemon process (one per folder,
// its files written fsynced). It decides nothing itself, so a ticker that
// fires twice or late never requests a slot twice: the peer databag's
// state does that.

// TickerCommand is the first argument that makes the charm binary the
// ticker (see TickerMain).
const TickerCommand = "ticker"

// Files of the ticker folder.
const (
	dueFile    = "next-due"    // the next due time, RFC 3339
	tickerLock = "ticker.lock" // held by the live ticker
	tickerPID  = "ticker.pid"  // its process id
	tickerLog  = "ticker.log"
)

// tickerRecheck bounds a ticker's sleep, so it sees a changed due time,
// and spaces its retries; a variable for tests.
var tickerRecheck = 30 * time.Second

// TickerDir is the ticker's folder beside the charm folder charmDir.
func TickerDir(charmDir string) string {
	return filepath.Join(filepath.Dir(charmDir), "dbbackup-ticker")
}

// tickerDaemon is the ticker process of folder dir.
func tickerDaemon(dir string) daemon.Daemon {
	return daemon.Daemon{Dir: dir, Name: "the schedule's ticker", LockFile: tickerLock, PIDFile: tickerPID, LogFile: tickerLog}
}

// syncTicker keeps the ticker in line with this hook: on the leader with a
// schedule, the due file holds the next due time and a ticker runs; else
// the file is removed and the ticker ends. With opts.NoTicker (jujusim's
// manual clock: the test drives the hooks) no ticker runs.
func (w *world) syncTicker(opts Options) error {
	dir := opts.TickerDir
	if dir == "" {
		return nil
	}
	next, _ := w.nextScheduled()
	due := filepath.Join(dir, dueFile)
	if !w.leader || next.IsZero() || opts.NoTicker {
		if err := os.Remove(due); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot stop the schedule's ticker: %w", err)
		}
		// Without a schedule the ticker still serves the leader's metrics.
		if !w.leader || opts.NoTicker || !publishing(dir) {
			return nil
		}
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cannot start the schedule's ticker: %w", err)
		}
		text := next.UTC().Format(time.RFC3339)
		if old, err := os.ReadFile(due); err != nil || string(old) != text {
			if err := daemon.WriteFile(due, []byte(text), 0o600); err != nil {
				return fmt.Errorf("cannot start the schedule's ticker: %w", err)
			}
		}
	}
	d := tickerDaemon(dir)
	if d.Alive() {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot start the schedule's ticker: %w", err)
	}
	if err := d.Start(exe, []string{TickerCommand, "--dir", dir, "--unit", w.unit}); err != nil {
		return err
	}
	if next.IsZero() {
		goops.LogInfof("started the schedule's ticker (pid %d): no schedule, serving the metrics", d.PID())
	} else {
		goops.LogInfof("started the schedule's ticker (pid %d): next due %s", d.PID(), next.UTC().Format(time.RFC3339))
	}
	return nil
}

// tickerAlive reports whether a ticker holds the folder's lock.
func tickerAlive(dir string) bool { return tickerDaemon(dir).Alive() }

// readDue reads the due file; ok is false when there is none.
func readDue(dir string) (time.Time, bool) {
	b, err := os.ReadFile(filepath.Join(dir, dueFile))
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
	return t, err == nil
}

// TickerMain is the ticker process: "--dir DIR --unit UNIT". It sleeps
// until each due time the leader's hooks write and then runs this binary
// in the unit's hook context through juju-exec. It returns the exit code.
func TickerMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(TickerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "the ticker folder")
	unit := fs.String("unit", "", "this unit's name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *unit == "" {
		fmt.Fprintln(stderr, "ticker: --dir and --unit are required")
		return 2
	}
	lock, err := tickerDaemon(*dir).Hold()
	if errors.Is(err, daemon.ErrRunning) {
		return 0 // another ticker serves this unit
	}
	if err != nil {
		fmt.Fprintf(stderr, "ticker: %v\n", err)
		return 1
	}
	defer lock.Close()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "ticker: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	serving := make(chan struct{})
	sctx, stopServing := context.WithCancel(ctx)
	go func() {
		defer close(serving)
		metrics.Follow(sctx, filepath.Join(*dir, metricsFile), stderr)
	}()
	runTicker(ctx, *dir, func(ctx context.Context) error { return jujuexec.Run(ctx, *unit, exe) }, stderr)
	stopServing()
	<-serving
	return 0
}

// runTicker fires fire at each due time of dir's due file until the file
// goes or ctx ends. When a fire leaves the due time where it was (the
// hook failed, or the slot waits for credentials), it fires again after
// tickerRecheck.
func runTicker(ctx context.Context, dir string, fire func(context.Context) error, log io.Writer) {
	for {
		due, ok := readDue(dir)
		if !ok && !publishing(dir) {
			fmt.Fprintf(log, "%s ticker: no due time: exiting (no metrics to serve)\n", time.Now().UTC().Format(time.RFC3339))
			return
		}
		wait := time.Until(due)
		if !ok {
			wait = tickerRecheck // serving the metrics only
		} else if wait <= 0 {
			fmt.Fprintf(log, "%s ticker: due %s: running the charm\n", time.Now().UTC().Format(time.RFC3339), due.Format(time.RFC3339))
			if err := fire(ctx); err != nil {
				fmt.Fprintf(log, "%s ticker: %v\n", time.Now().UTC().Format(time.RFC3339), err)
			}
			if after, ok := readDue(dir); ok && !after.After(due) {
				wait = tickerRecheck
			} else {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(wait, tickerRecheck)):
		}
	}
}
