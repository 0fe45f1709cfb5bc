package backupagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/s3"
)

// Executor is the composition root of a job: it picks the engine of the
// recorded database and opens the S3 store of the job's storage-config,
// and streams a backup or a restore through the artefact pipeline. The
// runner runs it (runner.Executor).
type Executor struct {
	// Scope is the folder under the storage path: the provider
	// application's name.
	Scope string
	// Database returns the database to use, read at the start of each job.
	Database func() (Database, error)
	// Store are the S3 client options (tests shorten the retries).
	Store s3.Options
	// BackedUp, when set, is called with each backup job that
	// succeeded (its credentials and keys resolved): the log archiver
	// follows the newest backup's storage. An error is logged, not the
	// job's.
	BackedUp func(job dbbackup.Job) error
	// Log receives what BackedUp could not do, and a physical restore's
	// steps; may be nil.
	Log io.Writer
	// Server, when set, stops and starts the PostgreSQL server for a
	// physical restore (the callback of a charm that embeds this
	// library); nil uses the Database's ServerControl.
	Server ServerControl

	// recovered: the first Check finished what an interrupted physical
	// restore left (recoverPhysical).
	recovered sync.Once
}

var _ runner.Executor = (*Executor)(nil)

// Check checks that the recorded database answers, for the runner's
// health checks (runner.Options.Check).
func (e *Executor) Check(ctx context.Context) error {
	db, err := e.Database()
	if err != nil {
		return err
	}
	e.recovered.Do(func() { e.recoverPhysical(db) })
	eng, err := db.Open()
	if err != nil {
		return err
	}
	return eng.Check(ctx)
}

// Run runs one backup or restore.
func (e *Executor) Run(ctx context.Context, job dbbackup.Job, progress func(bytes, total int64)) (string, error) {
	db, err := e.Database()
	if err != nil {
		return "", err
	}
	eng, err := db.Open()
	if err != nil {
		return "", err
	}
	secrets := append(job.Storage.Secrets(), db.Password)
	var path string
	switch job.Type {
	case dbbackup.Backup:
		path, err = e.backup(ctx, eng, job, secrets, progress)
	case dbbackup.Restore:
		path, err = e.restore(ctx, eng, db, job, progress)
	default:
		err = fmt.Errorf("job-type %q is not backup or restore", job.Type)
	}
	return path, secret.Guard(err, secrets)
}

func (e *Executor) backup(ctx context.Context, eng engine.Engine, job dbbackup.Job, secrets []string, progress func(int64, int64)) (string, error) {
	method, err := job.BackupMethod()
	if err != nil {
		return "", err
	}
	if method == dbbackup.MethodPhysical && eng.Kind() != engine.PostgreSQL {
		return "", fmt.Errorf("%s: a physical backup is a PostgreSQL base backup; this unit serves %s (use %s)",
			dbbackup.MethodField, eng.Kind(), dbbackup.MethodLogical)
	}
	if err := eng.Check(ctx); err != nil {
		return "", err
	}
	st, err := s3.New(job.Storage, e.Store)
	if err != nil {
		return "", fmt.Errorf("storage-config: %w", err)
	}
	compression := true
	if job.Config != nil {
		compression = job.Config.Compression
	}
	keys, err := jobKeys(job)
	if err != nil {
		return "", err
	}
	m, err := artefact.Backup(ctx, st, artefact.BackupOptions{
		Scope: e.Scope, JobID: job.ID, Engine: eng.Kind(), Method: engine.Method(method), Compression: compression, Secrets: secrets, Key: keys.Current(),
	}, func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		return eng.Backup(ctx, engine.BackupSpec{Method: engine.Method(method), Log: log, Progress: func(b int64) { progress(b, 0) }}, w)
	})
	if err != nil {
		return "", err
	}
	if e.BackedUp != nil {
		if err := e.BackedUp(job); err != nil && e.Log != nil {
			fmt.Fprintf(e.Log, "job %s: %v\n", job.ID, secret.Guard(err, secrets))
		}
	}
	return m.Ref().Under(job.Storage.Path).Path(), nil
}

func (e *Executor) restore(ctx context.Context, eng engine.Engine, db Database, job dbbackup.Job, progress func(int64, int64)) (string, error) {
	if job.ArtefactPath == "" {
		return "", errors.New("artefact-path: a restore needs the artefact-path of a backup")
	}
	ref, err := artefact.ParseRef(job.ArtefactPath)
	if err != nil {
		return "", err
	}
	prefix := ref.Path()
	target, err := job.RestoreToTime()
	if err != nil {
		return job.ArtefactPath, err
	}
	if err := eng.Check(ctx); err != nil {
		return job.ArtefactPath, err
	}
	cfg := job.Storage
	st, err := s3.NewRoot(cfg, e.Store)
	if err != nil {
		return job.ArtefactPath, fmt.Errorf("storage-config: %w", err)
	}
	m, err := artefact.ReadManifest(ctx, st, prefix)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, artefact.ErrIncomplete) {
		return job.ArtefactPath, fmt.Errorf("artefact-path: no complete backup at %s in bucket %s", job.ArtefactPath, cfg.Bucket)
	}
	if err != nil {
		return job.ArtefactPath, err
	}
	key, err := restoreKey(job, m)
	if err != nil {
		return job.ArtefactPath, err
	}
	if m, err = artefact.Open(ctx, st, prefix, key); err != nil {
		return job.ArtefactPath, err
	}
	if m.Engine.Kind != eng.Kind() {
		return job.ArtefactPath, fmt.Errorf("artefact-path: %s holds a %s backup; it cannot be restored into %s", job.ArtefactPath, m.Engine.Kind, db.Name())
	}
	if m.Engine.Method == engine.MethodPhysical {
		return job.ArtefactPath, e.restorePhysical(ctx, eng, db, job, st, prefix, key, m, target)
	}
	if !target.IsZero() {
		return job.ArtefactPath, e.restoreToTime(ctx, eng, db, job, st, prefix, key, target, progress)
	}
	spec := engine.RestoreSpec{Method: m.Engine.Method, Progress: func(b int64) { progress(b, m.RawBytes) }}
	if db.Database == "" && len(m.Engine.Databases) == 1 {
		spec.Database = m.Engine.Databases[0]
	}
	_, _, err = artefact.RestoreInto(ctx, st, prefix, artefact.RestoreOptions{Key: key}, eng, spec)
	return job.ArtefactPath, err
}
