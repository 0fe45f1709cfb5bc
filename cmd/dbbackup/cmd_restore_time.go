package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
)

// pitrFlags are restore's flags for a restore to a time.
type pitrFlags struct {
	toTime, scope, path, cfgPath, keyFile, dbURL string
	asJSON                                       bool
}

// pitrReport is the --json output of a restore to a time.
type pitrReport struct {
	restoreReport
	RestoredTo time.Time `json:"restored-to"`
	Binlogs    []string  `json:"binlogs"`
}

// parseTargetTime reads --restore-to-time.
func parseTargetTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("--restore-to-time %q: not an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
	}
	if t.Year() < 1971 || t.Year() > 2105 { // binary log times are 32-bit seconds
		return t, fmt.Errorf("--restore-to-time %q: out of the range binary logs record", s)
	}
	return t, nil
}

// runRestoreToTime restores a backup and replays the archived binary logs
// up to --restore-to-time; see restoreAbout.
func runRestoreToTime(f pitrFlags, eng engine.Engine, conn engine.Conn, stdout, stderr io.Writer) int {
	fail := func(err error) int { return usageError(stderr, "restore", err) }
	my, isMySQL := eng.(*mysql.Engine)
	switch {
	case f.toTime == "":
		return fail(errors.New("--scope is only for --restore-to-time (a plain restore takes --artefact-path)"))
	case !isMySQL:
		return fail(errors.New("--restore-to-time is for --engine mysql (MariaDB binary logs)"))
	case f.path == "" && f.scope == "":
		return fail(errors.New("--restore-to-time needs --artefact-path (the backup to start from) or --scope (take its newest backup before the time)"))
	case f.path != "" && f.scope != "":
		return fail(errors.New("give --artefact-path or --scope, not both"))
	}
	target, err := parseTargetTime(f.toTime)
	if err != nil {
		return fail(err)
	}
	if f.scope != "" {
		if err := checkScope(f.scope); err != nil {
			return fail(err)
		}
	}
	st, cfg, err := openStore(f.cfgPath)
	if err != nil {
		return fail(err)
	}
	var key []byte
	if f.keyFile != "" {
		if key, err = artefact.ReadKeyFile(f.keyFile); err != nil {
			return fail(err)
		}
	}
	baseSt, prefix := store.Store(st), ""
	if f.path != "" {
		root, p, _, code := openArtefact(f.cfgPath, f.path, "", stderr, "restore")
		if code >= 0 {
			return code
		}
		baseSt, prefix = root, p
	}
	secrets := append(cfg.Secrets(), conn.Password)
	refuse := func(err error) int {
		fmt.Fprintf(stderr, "dbbackup restore: %v\n", secret.Guard(err, secrets))
		return exitFail
	}
	ctx, cancel := signalContext()
	defer cancel()
	if prefix == "" {
		if prefix, err = newestBase(ctx, st, f.scope, conn.Database, target); err != nil {
			return refuse(err)
		}
	}
	m, err := artefact.Open(ctx, baseSt, prefix, key)
	if err != nil {
		return refuse(err)
	}
	if err := pitrBase(m, conn.Database, target); err != nil {
		return refuse(fmt.Errorf("cannot restore %s to %s: %w", prefix, f.toTime, err))
	}
	db := m.Engine.Databases[0]
	stop := target.Truncate(time.Second).Add(time.Second)
	dir, err := os.MkdirTemp("", "dbbackup-replay-")
	if err != nil {
		return refuse(err)
	}
	defer os.RemoveAll(dir)
	chain, err := pitr.Archive{Store: st, Scope: m.Scope, Key: key}.Binlogs().Fetch(ctx, *m.Engine.Binlog, stop, dir)
	if err != nil {
		return refuse(err)
	}
	if err := my.CheckReplay(ctx); err != nil {
		return refuse(err)
	}
	prog := newProgress(stderr, "restore", m.RawBytes)
	start := time.Now()
	_, res, err := artefact.RestoreInto(ctx, baseSt, prefix, artefact.RestoreOptions{Key: key}, eng,
		engine.RestoreSpec{Method: m.Engine.Method, Database: db, Log: stderr, Progress: prog.update})
	if err != nil {
		return refuse(err)
	}
	prog.done()
	if err := my.ReplayBinlogs(ctx, mysql.ReplaySpec{Chain: chain, Start: *m.Engine.Binlog, Stop: stop, Database: db, Log: stderr}); err != nil {
		return refuse(fmt.Errorf("restored %s, then %w", prefix, err))
	}
	names := make([]string, len(chain.Paths))
	for i, p := range chain.Paths {
		names[i] = filepath.Base(p)
	}
	reported := m.Ref().Under(cfg.Path).Path()
	if f.path != "" {
		reported = prefix
	}
	if f.asJSON {
		return writeJSON(stdout, pitrReport{restoreReport: restoreReport{ArtefactPath: reported, JobID: m.JobID,
			Engine: string(m.Engine.Kind), Databases: res.Databases, RawBytes: m.RawBytes, Seconds: time.Since(start).Seconds()},
			RestoredTo: target.UTC(), Binlogs: names})
	}
	fmt.Fprintf(stdout, "restored %s into %s as of %s (%d binary log files replayed)\n", prefix, f.dbURL, target.UTC().Format(time.RFC3339), len(names))
	return exitOK
}

// pitrBase refuses a backup a restore to target cannot start from.
func pitrBase(m artefact.Manifest, database string, target time.Time) error {
	switch {
	case m.Engine.Kind != engine.MySQL:
		return fmt.Errorf("it is a %s backup", m.Engine.Kind)
	case m.Engine.Binlog == nil:
		return errors.New("the backup records no binary log position (the server wrote no binary log, or an older dbbackup made it)")
	case len(m.Engine.Databases) != 1:
		return fmt.Errorf("the backup holds %d databases; a restore to a time needs a backup of one database", len(m.Engine.Databases))
	case database != "" && database != m.Engine.Databases[0]:
		return fmt.Errorf("the backup is of database %q; a restore to a time restores it under its own name, not into %q", m.Engine.Databases[0], database)
	case m.FinishedAt.After(target):
		return fmt.Errorf("the backup finished at %s, after the time", m.FinishedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// newestBase returns the prefix of the newest backup of scope a restore
// to target can start from.
func newestBase(ctx context.Context, st store.Store, scope, database string, target time.Time) (string, error) {
	backups, err := artefact.List(ctx, st, artefact.ListOptions{Scope: scope})
	if err != nil {
		return "", err
	}
	var best *artefact.Summary
	for i, b := range backups {
		if !b.Complete || b.Engine != engine.MySQL || b.Binlog == nil || len(b.Databases) != 1 || b.FinishedAt.After(target) ||
			(database != "" && b.Databases[0] != database) {
			continue
		}
		if best == nil || b.FinishedAt.After(best.FinishedAt) {
			best = &backups[i]
		}
	}
	if best == nil {
		return "", fmt.Errorf("cannot restore to %s: scope %s holds no backup of one database with a binary log position finished before then", target.UTC().Format(time.RFC3339), scope)
	}
	return best.Prefix, nil
}
