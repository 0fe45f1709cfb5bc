package backupagent

import (
	"context"
	"fmt"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
)

// restoreToTime restores the base at prefix (root is the bucket's root)
// and replays the binary logs archived in the base's scope, under the
// job's storage path, up to target: the one road of pitr.RestoreMySQL,
// which checks the base, every binary log and the right to replay before
// the first statement reaches the server.
func (e *Executor) restoreToTime(ctx context.Context, eng engine.Engine, db Database, job dbbackup.Job, root store.Store, prefix string, key []byte, target time.Time, progress func(int64, int64)) error {
	my, ok := eng.(*mysql.Engine)
	if !ok {
		return fmt.Errorf("%s: %s cannot restore to a time", dbbackup.RestoreToTimeField, db.Name())
	}
	archive, keys, err := jobArchive(job, e.Store)
	if err != nil {
		return err
	}
	_, err = pitr.RestoreMySQL(ctx, pitr.MySQLRestore{Engine: my, Archive: archive, Base: root, Prefix: prefix,
		Database: db.Database, Target: target, Key: key, Keys: keys, Progress: progress})
	return err
}
