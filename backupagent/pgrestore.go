package backupagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/flock"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store"
)

// DataDirField is the agent config option that names PostgreSQL's data
// directory.
const DataDirField = "data-directory"

// Bounds of a physical restore, variables for tests.
var (
	// stopWait bounds the wait for postmaster.pid to go once the
	// control said the server stopped.
	stopWait = time.Minute
	// promoteWait bounds the recovery: from the server's start to its
	// promotion.
	promoteWait = 2 * time.Hour
)

// physicalRestore is one restore of a physical PostgreSQL base backup
// into the server's data directory.
type physicalRestore struct {
	e      *Executor
	pg     *postgres.Engine
	ctl    ServerControl
	dir    string // the data directory
	before string // where the data directory is kept while the new one recovers
	stage  string // the restore_command's folder: its program and job
	uid    int
	gid    int
	log    io.Writer
	lock   *os.File // flock held on the stage folder while the restore runs
}

// restorePhysical restores the physical PostgreSQL base m (at prefix of
// root) into the server's data directory, and lets the server recover
// from the scope's WAL archive to target (zero: to the end of the
// archive) and promote. Everything is verified before the server is
// stopped: the base whole, and every WAL file the recovery needs. The old
// data directory is kept beside until the server was promoted; a failure
// after the stop puts it back and starts the server on it again.
func (e *Executor) restorePhysical(ctx context.Context, eng engine.Engine, db Database, job dbbackup.Job, root store.Store, prefix string, key []byte, m artefact.Manifest, target time.Time) error {
	pg, ok := eng.(*postgres.Engine)
	if !ok || m.Engine.Physical == nil {
		return fmt.Errorf("artefact-path: %s is a physical backup, which only a PostgreSQL server restores", job.ArtefactPath)
	}
	p := &physicalRestore{e: e, pg: pg, dir: db.DataDir, log: e.Log}
	if p.log == nil {
		p.log = io.Discard
	}
	field := "artefact-path"
	if !target.IsZero() {
		field = dbbackup.RestoreToTimeField
	}
	var err error
	if p.ctl, err = e.serverControl(db); err != nil {
		return err
	}
	if p.ctl == nil || p.dir == "" {
		return fmt.Errorf("%s: restoring a physical PostgreSQL backup stops the server and rewrites its data directory: set this agent's config %s (systemd:UNIT or snap:SNAP.SERVICE) and %s",
			field, ServerControlField, DataDirField)
	}
	if err := p.checkDataDir(); err != nil {
		return err
	}
	archive, keys, err := jobArchive(job, e.Store)
	if err != nil {
		return err
	}
	arch := pitr.Archive{Store: archive, Scope: m.Scope, Key: key, Keys: keys}.WAL()
	plan, err := postgres.PrepareRecovery(ctx, *m.Engine.Physical, target, arch)
	if err != nil {
		return fmt.Errorf("cannot restore %s: %w", job.ArtefactPath, err)
	}
	id := safeName.ReplaceAllString(job.ID, "-")
	p.before = p.dir + ".dbbackup-before-" + id
	p.stage = filepath.Join(filepath.Dir(p.dir), ".dbbackup-restore-"+id)
	if _, err := os.Lstat(p.before); err == nil {
		return fmt.Errorf("cannot restore: %s, a data directory an earlier restore kept, is in the way: move it away", p.before)
	}
	cmdline, err := p.prepareStage(job, m.Scope)
	defer p.removeStage()
	if err != nil {
		return err
	}
	spec := postgres.BaseRestoreSpec{Dir: p.dir, RestoreCommand: cmdline, Target: target, Timeline: plan.Timeline,
		SystemID: m.Engine.Physical.SystemID, ServerVersion: m.Engine.ServerVersion, Log: p.log}
	stopped, promoted := false, false
	_, _, err = artefact.Restore(ctx, root, prefix, artefact.RestoreOptions{Key: key, VerifyFirst: true, SpoolDir: p.stage},
		func(ctx context.Context, r io.Reader) (engine.Result, error) {
			stopped = true
			if err := p.swap(ctx, spec, r); err != nil {
				return m.Engine, err
			}
			err := p.recover(ctx)
			if errors.Is(err, errStoppedInRecovery) && !target.IsZero() {
				// PostgreSQL stops at the first commit after the target;
				// with none in the archive it ends its recovery with
				// "recovery ended before configured recovery target was
				// reached" rather than guess.
				err = fmt.Errorf("%w; if its log says the recovery ended before the target was reached, the archive holds no commit after %s: choose an earlier time, or restore without restore-to-time (to the end of the archive)",
					err, target.UTC().Format(time.RFC3339Nano))
			}
			if err != nil {
				return m.Engine, err
			}
			promoted = true
			if err := p.setState("promoted"); err != nil {
				fmt.Fprintf(p.log, "restore %s: %v\n", job.ID, err)
			}
			return m.Engine, nil
		})
	switch {
	case err != nil && stopped && !promoted:
		return p.rollBack(fmt.Errorf("cannot restore %s: %w", job.ArtefactPath, err))
	case err != nil:
		return fmt.Errorf("cannot restore %s: %w", job.ArtefactPath, err)
	}
	if err := os.RemoveAll(p.before); err != nil {
		fmt.Fprintf(p.log, "restore %s: the old data directory %s could not be removed: %v\n", job.ID, p.before, err)
	}
	return nil
}

// safeName is what a job id may bring into a file name.
var safeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// serverControl is the Executor's own control, else the configured one.
func (e *Executor) serverControl(db Database) (ServerControl, error) {
	if e.Server != nil {
		return e.Server, nil
	}
	return ParseServerControl(db.ServerControl)
}

// checkDataDir checks that the configured directory is a PostgreSQL data
// directory and records its owner, the server's user.
func (p *physicalRestore) checkDataDir() error {
	if !filepath.IsAbs(p.dir) || filepath.Clean(p.dir) != p.dir || p.dir == "/" {
		return fmt.Errorf("%s %q must be a clean absolute path", DataDirField, p.dir)
	}
	fi, err := os.Stat(p.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", DataDirField, err)
	}
	if _, err := os.Stat(filepath.Join(p.dir, "PG_VERSION")); err != nil {
		return fmt.Errorf("%s %s is not a PostgreSQL data directory (no PG_VERSION)", DataDirField, p.dir)
	}
	p.uid, p.gid = os.Getuid(), os.Getgid()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		p.uid, p.gid = int(st.Uid), int(st.Gid)
	}
	return nil
}

// prepareStage makes the folder the restore_command runs from: a copy of
// this program and the restore job (its storage credentials and keys),
// both readable by the server's user alone, and returns the command.
func (p *physicalRestore) prepareStage(job dbbackup.Job, scope string) (string, error) {
	if err := os.RemoveAll(p.stage); err != nil {
		return "", fmt.Errorf("cannot clear %s: %w", p.stage, err)
	}
	if err := os.Mkdir(p.stage, 0o700); err != nil {
		return "", fmt.Errorf("cannot make %s: %w", p.stage, err)
	}
	lock, err := flock.Take(filepath.Join(p.stage, "lock"))
	if err != nil {
		return "", fmt.Errorf("cannot lock %s: %w", p.stage, err)
	}
	p.lock = lock
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return "", fmt.Errorf("cannot find this program for restore_command: %w", err)
	}
	prog := filepath.Join(p.stage, "dbbackup-wal-fetch")
	if err := copyFile(exe, prog, 0o700); err != nil {
		return "", fmt.Errorf("cannot copy this program for restore_command: %w", err)
	}
	if _, err := (runner.Journal{Dir: p.stage}).SetJobValue(fetchJobValue, job); err != nil {
		return "", err
	}
	for _, f := range []string{p.stage, prog, filepath.Join(p.stage, fetchJobValue)} {
		if err := os.Lchown(f, p.uid, p.gid); err != nil && !errors.Is(err, syscall.EPERM) {
			return "", fmt.Errorf("cannot give %s to the server's user: %w", f, err)
		}
	}
	return postgres.RestoreCommand(prog, WALFetchCommand, "--state", p.stage, "--scope", scope)
}

func (p *physicalRestore) removeStage() {
	if p.stage != "" {
		if err := os.RemoveAll(p.stage); err != nil {
			fmt.Fprintf(p.log, "cannot remove %s (it holds the storage credentials): %v\n", p.stage, err)
		}
	}
	if p.lock != nil {
		p.lock.Close()
	}
}

// restoreState, in the stage folder, is how far a restore went: what a
// restore killed midway left is finished by the next runner
// (recoverPhysical).
type restoreState struct {
	// State is "swapped" from just before the data directory is moved
	// aside, "promoted" once the server runs on the restored one.
	State string `json:"state"`
}

const restoreStateValue = "restore-state.json"

func (p *physicalRestore) setState(state string) error {
	_, err := (runner.Journal{Dir: p.stage}).SetValue(restoreStateValue, restoreState{State: state})
	return err
}

// swap stops the server, moves its data directory aside and writes the
// base into a new one of the same owner.
func (p *physicalRestore) swap(ctx context.Context, spec postgres.BaseRestoreSpec, r io.Reader) error {
	fmt.Fprintf(p.log, "stopping PostgreSQL (%s) to restore into %s\n", p.ctl, p.dir)
	if err := p.ctl.Stop(ctx); err != nil {
		return err
	}
	if err := p.waitStopped(ctx); err != nil {
		return err
	}
	if err := p.setState("swapped"); err != nil {
		return err
	}
	if err := os.Rename(p.dir, p.before); err != nil {
		return fmt.Errorf("cannot move the data directory aside: %w", err)
	}
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		return fmt.Errorf("cannot make the new data directory: %w", err)
	}
	if err := os.Lchown(p.dir, p.uid, p.gid); err != nil && !errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("cannot give the new data directory to the server's user: %w", err)
	}
	return p.pg.RestoreBase(ctx, spec, r)
}

// recover starts the server on the restored data directory and waits for
// its promotion. A server that stops in its recovery (the start may fail
// for it) is errStoppedInRecovery.
func (p *physicalRestore) recover(ctx context.Context) error {
	fmt.Fprintf(p.log, "starting PostgreSQL (%s) to recover\n", p.ctl)
	if err := p.ctl.Start(ctx); err != nil {
		if _, serr := os.Stat(filepath.Join(p.dir, "postmaster.pid")); errors.Is(serr, os.ErrNotExist) && p.recovering() {
			return fmt.Errorf("%w: %w", errStoppedInRecovery, err)
		}
		return err
	}
	return p.waitPromoted(ctx)
}

// recovering tells whether the data directory still asks for a recovery
// (recovery.signal: the server removes it once promoted).
func (p *physicalRestore) recovering() bool {
	_, err := os.Stat(filepath.Join(p.dir, "recovery.signal"))
	return err == nil
}

// waitStopped waits for the server's postmaster.pid to go.
func (p *physicalRestore) waitStopped(ctx context.Context) error {
	pid := filepath.Join(p.dir, "postmaster.pid")
	deadline := time.Now().Add(stopWait)
	for {
		if _, err := os.Stat(pid); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %s said the server stopped, but %s is still there after %s", p.ctl, pid, stopWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitPromoted waits until the server answers that it is no longer in
// recovery. A server that stopped (its postmaster.pid gone: recovery
// failed) ends the wait at once.
func (p *physicalRestore) waitPromoted(ctx context.Context) error {
	deadline := time.Now().Add(promoteWait)
	var last error
	for {
		in, err := p.pg.InRecovery(ctx)
		if err == nil && !in {
			return nil
		}
		last = err
		if _, serr := os.Stat(filepath.Join(p.dir, "postmaster.pid")); errors.Is(serr, os.ErrNotExist) {
			return fmt.Errorf("%w (see its log): %v", errStoppedInRecovery, last)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL did not finish its recovery within %s (last: %v)", promoteWait, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// errStoppedInRecovery: the server stopped before it was promoted.
var errStoppedInRecovery = errors.New("PostgreSQL stopped during the recovery")

// rollBack puts the old data directory back and starts the server on it.
func (p *physicalRestore) rollBack(cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*controlTimeout)
	defer cancel()
	_ = p.ctl.Stop(ctx) // it may not run
	if _, err := os.Lstat(p.before); err != nil {
		// Never moved: the data directory is as it was.
		if err := p.ctl.Start(ctx); err != nil {
			return fmt.Errorf("%w; the data directory was not changed, but the server could not be started again: %v", cause, err)
		}
		return fmt.Errorf("%w; the data directory was not changed and the server runs again", cause)
	}
	if err := p.waitStopped(ctx); err != nil {
		return fmt.Errorf("%w; the old data directory is kept in %s: %v", cause, p.before, err)
	}
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("%w; the old data directory is kept in %s (the new one could not be removed: %v)", cause, p.before, err)
	}
	if err := os.Rename(p.before, p.dir); err != nil {
		return fmt.Errorf("%w; the old data directory is kept in %s: %v", cause, p.before, err)
	}
	if err := p.ctl.Start(ctx); err != nil {
		return fmt.Errorf("%w; the old data directory was put back, but the server could not be started again: %v", cause, err)
	}
	return fmt.Errorf("%w; the old data directory was put back and the server runs again", cause)
}

// copyFile copies src to a new file dst of mode perm.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
