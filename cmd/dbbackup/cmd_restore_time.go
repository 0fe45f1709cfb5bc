package main

import (
	"errors"
	"fmt"
	"io"
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
	prog := newProgress(stderr, "restore", 0)
	start := time.Now()
	res, err := pitr.RestoreMySQL(ctx, pitr.MySQLRestore{Engine: my, Archive: st, Base: baseSt, Prefix: prefix,
		Scope: f.scope, Database: conn.Database, Target: target, Key: key, Log: stderr,
		Progress: func(n, total int64) { prog.setTotal(total); prog.update(n) }})
	if err != nil {
		return refuse(err)
	}
	prog.done()
	m, prefix := res.Manifest, res.Prefix
	names := res.Binlogs
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
