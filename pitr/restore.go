package pitr

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
	"github.com/dbbackup/dbbackup/store"
)

// MySQLRestore is what RestoreMySQL restores: a MariaDB backup of one
// database and the binary logs archived after it, up to a time.
type MySQLRestore struct {
	// Engine is the server restored into.
	Engine *mysql.Engine
	// Archive is the store rooted at the storage path: it holds the
	// scope's binary log archive (and, without Prefix, its backups).
	Archive store.Store
	// Base and Prefix name the backup to start from (Base nil means
	// Archive); an empty Prefix takes the newest backup of Scope that
	// finished before Target.
	Base   store.Store
	Prefix string
	// Scope is the folder whose newest backup is taken when Prefix is
	// empty; the binary logs are always read from the base's own scope.
	Scope string
	// Database, when set, is the database the caller means: a base of
	// another database is refused.
	Database string
	// Target is the moment restored to.
	Target time.Time
	// Key opens the base and the archive; Keys are further keys a read
	// of an archived file tries (a rotated secret).
	Key  []byte
	Keys artefact.Keys
	// Log receives the tools' messages; Progress the restore's bytes out
	// of the backup's raw size. Both may be nil.
	Log      io.Writer
	Progress func(done, total int64)
	// TempDir holds the fetched binary logs while they are replayed;
	// empty means os.TempDir().
	TempDir string
}

// MySQLResult is what RestoreMySQL did.
type MySQLResult struct {
	// Manifest and Prefix are the base restored.
	Manifest artefact.Manifest
	Prefix   string
	// Databases are the databases the base's restore wrote.
	Databases []string
	// Binlogs are the names of the binary log files replayed.
	Binlogs []string
}

// RestoreMySQL restores a MariaDB backup and replays the archived binary
// logs up to spec.Target. Everything is checked before the first statement
// reaches the server: the base (engine, position, one database, finished
// before the time, manifest and key), every binary log from the base's
// position to the time (fetched and verified) and the account's right to
// replay. A failure after that says the base was restored.
func RestoreMySQL(ctx context.Context, spec MySQLRestore) (MySQLResult, error) {
	var res MySQLResult
	if spec.Engine == nil {
		return res, errors.New("cannot restore to a time: it needs a MariaDB/MySQL server")
	}
	base, prefix := spec.Base, spec.Prefix
	if base == nil {
		base = spec.Archive
	}
	if prefix == "" {
		var err error
		if prefix, err = NewestMySQLBase(ctx, spec.Archive, spec.Scope, spec.Database, spec.Target); err != nil {
			return res, err
		}
	}
	res.Prefix = prefix
	m, err := artefact.Open(ctx, base, prefix, spec.Key)
	if err != nil {
		return res, err
	}
	res.Manifest = m
	if err := CheckMySQLBase(m, spec.Database, spec.Target); err != nil {
		return res, fmt.Errorf("cannot restore %s to %s: %w", prefix, spec.Target.Format(time.RFC3339Nano), err)
	}
	db := m.Engine.Databases[0]
	stop := spec.Target.Truncate(time.Second).Add(time.Second)
	dir, err := os.MkdirTemp(spec.TempDir, "dbbackup-replay-")
	if err != nil {
		return res, fmt.Errorf("cannot make a folder for the binary logs: %w", err)
	}
	defer os.RemoveAll(dir)
	archive := Archive{Store: spec.Archive, Scope: m.Scope, Key: spec.Key, Keys: spec.Keys}
	chain, err := archive.Binlogs().Fetch(ctx, *m.Engine.Binlog, stop, dir)
	if err != nil {
		return res, err
	}
	if err := spec.Engine.CheckReplay(ctx); err != nil {
		return res, err
	}
	rs := engine.RestoreSpec{Method: m.Engine.Method, Database: db, Log: spec.Log}
	if spec.Progress != nil {
		rs.Progress = func(n int64) { spec.Progress(n, m.RawBytes) }
	}
	_, restored, err := artefact.RestoreInto(ctx, base, prefix, artefact.RestoreOptions{Key: spec.Key}, spec.Engine, rs)
	if err != nil {
		return res, err
	}
	res.Databases = restored.Databases
	if err := spec.Engine.ReplayBinlogs(ctx, mysql.ReplaySpec{Chain: chain, Start: *m.Engine.Binlog, Stop: stop, Database: db, Log: spec.Log}); err != nil {
		return res, fmt.Errorf("restored %s, then %w", prefix, err)
	}
	res.Binlogs = make([]string, len(chain.Paths))
	for i, p := range chain.Paths {
		res.Binlogs[i] = filepath.Base(p)
	}
	return res, nil
}

// CheckMySQLBase refuses a backup a restore to target cannot start from:
// not MariaDB, no binary log position, more than one database, another
// database than database (when set), or finished after target.
func CheckMySQLBase(m artefact.Manifest, database string, target time.Time) error {
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

// NewestMySQLBase returns the prefix of the newest backup of scope (st
// rooted at the storage path) a restore to target can start from.
func NewestMySQLBase(ctx context.Context, st store.Store, scope, database string, target time.Time) (string, error) {
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
