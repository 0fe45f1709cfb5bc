package main

import (
	"context"
	"fmt"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/store"
)

// physicalRestore is the command line of a point-in-time restore.
type physicalRestore struct {
	kind, dbURL, cfgPath, path, keyFile string
	pgdata, toTime, scope               string
	asJSON                              bool
}

// physicalReport is the --json output of a point-in-time restore.
type physicalReport struct {
	ArtefactPath string    `json:"artefact-path"`
	JobID        string    `json:"job-id"`
	PGData       string    `json:"pgdata"`
	Target       time.Time `json:"restore-to-time,omitzero"`
	Timeline     uint32    `json:"timeline"`
	WALSegments  int       `json:"wal-segments-verified"`
	ArchiveEnd   time.Time `json:"archive-end"`
	Seconds      float64   `json:"seconds"`
}

// check refuses an unusable command line, naming the flag.
func (o *physicalRestore) check() (time.Time, error) {
	var target time.Time
	switch {
	case o.kind != string(engine.PostgreSQL):
		return target, fmt.Errorf("--pgdata, --restore-to-time and --scope are for --engine postgresql, got %q", o.kind)
	case o.dbURL != "":
		return target, fmt.Errorf("--database-url is not taken by a physical restore (--pgdata, --restore-to-time or --scope with --engine postgresql): it writes the data directory --pgdata DIR with the server stopped")
	case o.pgdata == "":
		return target, fmt.Errorf("--pgdata DIR is required with --restore-to-time or --scope")
	case (o.path == "") == (o.scope == ""):
		return target, fmt.Errorf("give exactly one of --artefact-path and --scope")
	}
	if err := postgres.CheckDataDir(o.pgdata); err != nil {
		return target, fmt.Errorf("--pgdata: %v", err)
	}
	if o.toTime != "" {
		t, err := time.Parse(time.RFC3339Nano, o.toTime)
		if err != nil {
			return target, fmt.Errorf("--restore-to-time %q is not an RFC 3339 time such as 2026-12-04T21:30:00Z", o.toTime)
		}
		target = t
	}
	if o.scope != "" {
		if err := checkScope(o.scope); err != nil {
			return target, err
		}
	}
	// restore_command names these files: the server runs it from DIR.
	if o.cfgPath != "" && !filepath.IsAbs(o.cfgPath) {
		return target, fmt.Errorf("--storage-config %q must be an absolute path: the restored server's restore_command reads it", o.cfgPath)
	}
	if o.keyFile != "" && !filepath.IsAbs(o.keyFile) {
		return target, fmt.Errorf("--encryption-key-file %q must be an absolute path: the restored server's restore_command reads it", o.keyFile)
	}
	return target, nil
}

func restorePhysical(o physicalRestore, stdout, stderr io.Writer) int {
	target, err := o.check()
	if err != nil {
		return usageError(stderr, "restore", err)
	}
	st, cfg, err := openStore(o.cfgPath)
	if err != nil {
		return usageError(stderr, "restore", err)
	}
	var key []byte
	if o.keyFile != "" {
		if key, err = artefact.ReadKeyFile(o.keyFile); err != nil {
			return usageError(stderr, "restore", err)
		}
	}
	prefix := ""
	if o.path != "" {
		ref, err := artefact.ParseRef(o.path)
		if err != nil {
			return usageError(stderr, "restore", fmt.Errorf("--%v", err))
		}
		if ref.Root != strings.Trim(cfg.Path, "/") {
			return usageError(stderr, "restore", fmt.Errorf("--artefact-path %s is not under the storage configuration's path %q, where the WAL archive is read", o.path, cfg.Path))
		}
		ref.Root = ""
		prefix = ref.Path()
	}
	secrets := cfg.Secrets()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "dbbackup restore: %v\n", secret.Scrub(err.Error(), secrets))
		return exitFail
	}
	ctx, cancel := signalContext()
	defer cancel()
	start := time.Now()
	if prefix == "" {
		if prefix, err = chooseBase(ctx, st, o.scope, target); err != nil {
			return fail(err)
		}
	}
	m, err := artefact.Open(ctx, st, prefix, key)
	if err != nil {
		return fail(err)
	}
	if m.Engine.Kind != engine.PostgreSQL || m.Engine.Method != engine.MethodPhysical || m.Engine.Physical == nil {
		return fail(fmt.Errorf("%s is a %s %s backup, not a physical PostgreSQL one: restore it without --pgdata", artefact.InBucket(cfg.Path, prefix), m.Engine.Method, m.Engine.Kind))
	}
	arch := pitr.Archive{Store: st, Scope: m.Scope, Key: key}.WAL()
	fmt.Fprintf(stderr, "dbbackup restore: verifying the WAL archive of scope %s from base %s\n", m.Scope, artefact.InBucket(cfg.Path, prefix))
	plan, err := postgres.PrepareRecovery(ctx, *m.Engine.Physical, target, arch)
	if err != nil {
		return fail(fmt.Errorf("cannot restore %s: %w", artefact.InBucket(cfg.Path, prefix), err))
	}
	cmdline, err := restoreCommand(o.cfgPath, m.Scope, o.keyFile)
	if err != nil {
		return fail(err)
	}
	eng := postgres.New(engine.Conn{}, postgres.Options{})
	spec := postgres.BaseRestoreSpec{Dir: o.pgdata, RestoreCommand: cmdline, Target: target, Timeline: plan.Timeline,
		SystemID: m.Engine.Physical.SystemID, ServerVersion: m.Engine.ServerVersion, Log: stderr}
	_, _, err = artefact.Restore(ctx, st, prefix, artefact.RestoreOptions{Key: key, VerifyFirst: true},
		func(ctx context.Context, r io.Reader) (engine.Result, error) {
			return m.Engine, eng.RestoreBase(ctx, spec, r)
		})
	if err != nil {
		return fail(fmt.Errorf("cannot restore %s: %w", artefact.InBucket(cfg.Path, prefix), err))
	}
	path := artefact.InBucket(cfg.Path, prefix)
	if o.asJSON {
		return writeJSON(stdout, physicalReport{ArtefactPath: path, JobID: m.JobID, PGData: o.pgdata, Target: target,
			Timeline: plan.Timeline, WALSegments: len(plan.Segments), ArchiveEnd: plan.End, Seconds: time.Since(start).Seconds()})
	}
	to := "the end of the WAL archive (" + plan.End.UTC().Format(time.RFC3339) + ")"
	if !target.IsZero() {
		to = target.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(stdout, "restored %s into %s; 'pg_ctl -D %s start' recovers to %s and promotes\n", path, o.pgdata, o.pgdata, to)
	return exitOK
}

// chooseBase returns the prefix of the newest complete physical
// PostgreSQL backup of scope that was consistent at target (the newest of
// all with no target).
func chooseBase(ctx context.Context, st store.Store, scope string, target time.Time) (string, error) {
	backups, err := artefact.List(ctx, st, artefact.ListOptions{Scope: scope})
	if err != nil {
		return "", err
	}
	var seen int
	for _, b := range backups { // newest first
		if !b.Complete || b.Engine != engine.PostgreSQL || b.Method != engine.MethodPhysical {
			continue
		}
		seen++
		m, err := artefact.ReadManifest(ctx, st, b.Prefix)
		if err != nil {
			return "", err
		}
		if m.Engine.Physical == nil {
			continue
		}
		if target.IsZero() || !m.Engine.Physical.EndTime.After(target) {
			return b.Prefix, nil
		}
	}
	if seen == 0 {
		return "", fmt.Errorf("scope %s holds no complete physical PostgreSQL backup", scope)
	}
	return "", fmt.Errorf("%w: no physical backup of scope %s was consistent by %s", postgres.ErrOutsideWindow, scope, target.UTC().Format(time.RFC3339))
}

// restoreCommand builds the restore_command of a restored server: this
// program's wal-fetch with the same storage configuration and key file.
func restoreCommand(cfgPath, scope, keyFile string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this program's path for restore_command: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("cannot find this program's path for restore_command: %w", err)
	}
	words := []string{exe, "wal-fetch", "--storage-config", cfgPath, "--scope", scope}
	if keyFile != "" {
		words = append(words, "--encryption-key-file", keyFile)
	}
	return postgres.RestoreCommand(words...)
}
