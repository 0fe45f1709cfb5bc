package backupagent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/daemon"
	"github.com/dbbackup/dbbackup/internal/jujuexec"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store/s3"
)

// RunnerCommand is the first argument that makes a charm binary the runner
// (see RunnerMain).
const RunnerCommand = "runner"

// runnerDaemon is the runner's process record in the journal folder: the
// runner holds the journal's lock and records its pid (runner.Run).
func runnerDaemon(j runner.Journal) daemon.Daemon {
	return daemon.Daemon{Dir: j.Dir, Name: "the runner", LockFile: "lock", PIDFile: "pid", LogFile: "runner.log"}
}

// stopGrace is how long StopRunner lets the runner record its running jobs
// as interrupted before it kills it.
const stopGrace = 20 * time.Second

// StartRunner starts the runner of unit (this very charm binary with
// RunnerCommand) unless one holds the journal already: as a systemd
// service (ServiceUnit, restarted on failure) or as a process in its own
// session that outlives the hook and logs to runner.log in the journal
// folder, as mode says (see RunnerMode and ModeEnv). Either stops on
// SIGTERM (StopRunner) or when the journal folder is removed.
func StartRunner(j runner.Journal, unit string, mode RunnerMode) error {
	d := runnerDaemon(j)
	if d.Alive() {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot start the runner: %w", err)
	}
	if mode.systemd() {
		return d.StartService(ServiceName(unit), ServiceUnit(exe, j.Dir, unit, os.Getenv("PATH")))
	}
	return d.Start(exe, []string{RunnerCommand, "--state", j.Dir, "--unit", unit})
}

// StopRunner stops the runner of the journal: SIGTERM (running jobs are
// cancelled and recorded as interrupted), then SIGKILL after 20 seconds;
// a systemd service is disabled and removed.
func StopRunner(j runner.Journal) error { return runnerDaemon(j).Stop(stopGrace) }

// RunnerMain is the runner process: args are
// "--state DIR --unit UNIT [--scope APP]". It runs the jobs of the journal
// with the database the charm recorded (SetDatabase), checks the
// database every 30 seconds, and after each transition runs this binary
// through "juju-exec UNIT" so that the charm reports at once. It returns
// the process exit code.
func RunnerMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(RunnerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the journal folder")
	unit := fs.String("unit", "", "this unit's name")
	scope := fs.String("scope", "", "the folder under the storage path (default: the unit's application)")
	poll := fs.Duration("poll", 200*time.Millisecond, "how often to look for new jobs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *state == "" || *unit == "" {
		fmt.Fprintln(stderr, "runner: --state and --unit are required")
		return 2
	}
	if *scope == "" {
		*scope, _, _ = strings.Cut(*unit, "/")
	}
	j := runner.Journal{Dir: *state}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "runner: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	x := &Executor{Scope: *scope, Database: func() (Database, error) { return ReadDatabase(j) }, Store: s3.Options{},
		BackedUp: func(job dbbackup.Job) error { return recordArchiveJob(j, job) }, Log: stampWriter{stderr}}
	defer ServeMetrics(ctx, j, stderr)()
	out, ok := stderr.(*os.File)
	if !ok {
		out = os.Stderr
	}
	var supervised sync.WaitGroup
	defer supervised.Wait()
	supCtx, stopSup := context.WithCancel(ctx)
	defer stopSup()
	supervised.Go(func() {
		superviseArchiver(supCtx, j, exe, *scope, time.Second, out, stampWriter{stderr}, func() { _ = j.Kick() })
	})
	err = runner.Run(ctx, runner.Options{
		Journal:  j,
		Executor: x,
		Notify:   jujuExec(*unit, exe),
		Check:    x.Check,
		Poll:     *poll,
		Log:      stampWriter{stderr},
	})
	if errors.Is(err, runner.ErrLocked) {
		return 0 // another runner serves this unit
	}
	if err != nil {
		fmt.Fprintf(stderr, "runner: %v\n", err)
		return 1
	}
	return 0
}

// jujuExec returns a Notify that runs exe in unit's hook context.
func jujuExec(unit, exe string) func(ctx context.Context) error {
	return func(ctx context.Context) error { return jujuexec.Run(ctx, unit, exe) }
}

// stampWriter prefixes each write with the time.
type stampWriter struct{ w io.Writer }

func (s stampWriter) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(s.w, "%s %s", time.Now().UTC().Format(time.RFC3339), p); err != nil {
		return 0, err
	}
	return len(p), nil
}
