package backupagent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/engine/postgres"
	"github.com/dbbackup/dbbackup/internal/flock"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/runner"
	"github.com/dbbackup/dbbackup/store/s3"
)

// ArchiverCommand is the first argument that makes a charm binary the log
// archiver (see ArchiverMain); the runner starts it (superviseArchiver).
const ArchiverCommand = "archiver"

// Journal values of the log archiver.
const (
	// archivingValue is what the hooks decide (Archiving).
	archivingValue = "archiving.json"
	// archiveJobValue is the newest backup job this unit ran, credentials
	// and keys included: the storage the archiver writes to.
	archiveJobValue = "archive-job.json"
	// archiverStateValue is what the runner's supervisor knows
	// (ArchiverState); archiverUploadValue what the archiver last stored.
	archiverStateValue  = "archiver-state.json"
	archiverUploadValue = "archiver-upload.json"
)

// Archiving is the hooks' decision about the log archiver of a unit.
type Archiving struct {
	// On: config archive-logs is true and this unit is the one that
	// archives (see docs/provider.md).
	On bool `json:"on"`
	// Why says, when On is false with archive-logs true, which unit
	// archives instead.
	Why string `json:"why,omitempty"`
	// WarnRetained is how much WAL (bytes) the PostgreSQL archiver's
	// replication slot may hold back on the server before the status
	// warns; 0: no limit.
	WarnRetained int64 `json:"warn-retained,omitempty"`
	// Release is true when archive-logs is off: the runner drops the
	// agent's replication slot and the WAL spool, which would otherwise
	// keep WAL on the server for ever (see releaser).
	Release bool `json:"release,omitempty"`
}

// SetArchiving records the hooks' decision for the runner. It reports
// whether it changed.
func SetArchiving(j runner.Journal, a Archiving) (bool, error) {
	changed, err := j.SetValue(archivingValue, a)
	if err != nil {
		return false, fmt.Errorf("cannot record the archiving decision: %w", err)
	}
	return changed, nil
}

func readArchiving(j runner.Journal) Archiving {
	var a Archiving
	_ = j.Value(archivingValue, &a) // none recorded: off
	return a
}

// recordArchiveJob keeps job, a backup this unit ran, as the archive's
// storage unless a newer one (a later job id) is kept already. The value
// is 0600, like the journal's records.
func recordArchiveJob(j runner.Journal, job dbbackup.Job) error {
	if old, err := j.JobValue(archiveJobValue); err == nil && old.ID > job.ID {
		return nil
	}
	_, err := j.SetJobValue(archiveJobValue, job)
	return err
}

// upload is what the archiver last stored.
type upload struct {
	At   time.Time `json:"at"`
	File string    `json:"file"`
}

// ArchiverMain is the archiver process: args are "--state DIR --scope
// APP". It streams the logs of the database the charm recorded into the
// storage of the newest backup job the unit ran (its credentials and
// current encryption key), under scope, until SIGTERM; it resumes where
// the archive stands (binary logs: from the archive's listing; WAL: from
// the replication slot and the spool kept in the journal folder). Exit
// code 0 on SIGTERM, 1 on a failure (the runner restarts it), 2 on bad
// arguments.
func ArchiverMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(ArchiverCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the journal folder")
	scope := fs.String("scope", "", "the folder under the storage path")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *state == "" || *scope == "" {
		fmt.Fprintln(stderr, "archiver: --state and --scope are required")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	defer pitr.LimitArchiverMemory()()
	j := runner.Journal{Dir: *state}
	if err := runArchiver(ctx, j, *scope, stderr); err != nil {
		msg := oneLine(err.Error())
		if _, werr := j.SetValue(archiverExitValue, map[string]string{"error": msg}); werr != nil {
			fmt.Fprintf(stderr, "archiver: %v\n", werr)
		}
		fmt.Fprintf(stderr, "archiver: %s\n", msg)
		return 1
	}
	return 0
}

func runArchiver(ctx context.Context, j runner.Journal, scope string, log io.Writer) (err error) {
	lock, err := flock.Take(filepath.Join(j.Dir, "archiver.lock"))
	if err != nil {
		return fmt.Errorf("cannot take the archiver's lock (another archiver runs?): %w", err)
	}
	defer lock.Close()
	db, err := ReadDatabase(j)
	if err != nil {
		return err
	}
	if db.Engine == engine.PostgreSQL {
		// An archiver that fails still measures the slot, which keeps
		// WAL on the server while nothing streams from it.
		defer func() {
			if err != nil && ctx.Err() == nil {
				measureSlotDown(ctx, j, db)
			}
		}()
	}
	job, err := j.JobValue(archiveJobValue)
	if err != nil {
		return fmt.Errorf("cannot read the storage to archive to: %w", err)
	}
	secrets := append(job.Storage.Secrets(), db.Password)
	keys, err := jobKeys(job)
	if err != nil {
		return err
	}
	st, err := s3.New(job.Storage, s3.ArchiverOptions())
	if err != nil {
		return secret.Guard(fmt.Errorf("storage-config: %w", err), secrets)
	}
	arch := pitr.Archive{Store: st, Scope: scope, Key: keys.Current()}
	out := &scrubbed{w: log, secrets: secrets}
	db.Database = "" // the logs are the whole server's
	eng, err := db.Open()
	if err != nil {
		return err
	}
	lag := func(l ArchiveLag) {
		if err := recordLag(j, l); err != nil {
			fmt.Fprintf(out, "%v\n", err)
		}
	}
	rec := func(name string) {
		if _, err := j.SetValue(archiverUploadValue, upload{At: time.Now().UTC(), File: name}); err != nil {
			fmt.Fprintf(out, "%v\n", err)
		}
	}
	fmt.Fprintf(out, "archiving the %s logs of %s:%d into bucket %s, scope %s\n", db.Engine, db.Host, db.Port, job.Storage.Bucket, scope)
	switch e := eng.(type) {
	case *mysql.Engine:
		spool := filepath.Join(j.Dir, binlogSpool)
		if err := clearBinlogSpool(spool, out); err != nil {
			return err
		}
		err = e.ArchiveBinlogs(ctx, mysql.ArchiveSpec{Sink: recordingSink{arch.Binlogs(), rec}, Log: out, Dir: spool,
			ProgressEvery: lagEvery, Progress: func(p mysql.ArchiveProgress) { lag(lagOfBinlog(p)) }})
	case *postgres.Engine:
		err = e.ArchiveWAL(ctx, postgres.ArchiveSpec{Spool: filepath.Join(j.Dir, walSpool), Slot: walSlot, Log: out,
			WarnRetained: readArchiving(j).WarnRetained, CheckEvery: time.Minute,
			ProgressEvery: lagEvery, Progress: func(p postgres.ArchiveProgress) { lag(lagOfWAL(p)) }}, recordingWAL{arch.WAL(), rec})
	default:
		err = fmt.Errorf("cannot archive the logs of %s", db.Engine)
	}
	return secret.Guard(err, secrets)
}

// measureSlotDown records the replication slot's retained WAL when the
// archiver fails (the lag is unknown: "down"), so that the status warns
// of a slot filling the server's disk while the archiver cannot run; the
// runner starts it again within a minute, so the measurement stays
// recent.
func measureSlotDown(ctx context.Context, j runner.Journal, db Database) {
	db.Database = ""
	eng, err := db.Open()
	if err != nil {
		return
	}
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	l := ArchiveLag{At: time.Now().UTC(), Bytes: -1, Why: "down", Slot: walSlot, Retained: -1}
	if s, err := eng.(*postgres.Engine).Slot(mctx, walSlot); err == nil {
		l.Retained, l.SlotStatus = s.Retained, oneWord(s.Status)
	}
	_ = recordLag(j, l)
}

// walSlot is the replication slot the agent's WAL archiver holds, and
// walSpool the folder in the journal pg_receivewal writes into.
const (
	walSlot  = "dbbackup_agent"
	walSpool = "wal-spool"
)

// recordingSink stores binary logs and records each upload.
type recordingSink struct {
	pitr.BinlogArchive
	rec func(name string)
}

func (s recordingSink) Put(ctx context.Context, p mysql.BinlogPiece, r io.Reader) error {
	err := s.BinlogArchive.Put(ctx, p, r)
	if err == nil {
		s.rec(p.File)
	}
	return err
}

// recordingWAL stores WAL files and records each upload.
type recordingWAL struct {
	pitr.WALArchive
	rec func(name string)
}

func (s recordingWAL) Put(ctx context.Context, name string, partial bool, r io.Reader) error {
	err := s.WALArchive.Put(ctx, name, partial, r)
	if err == nil {
		s.rec(name)
	}
	return err
}

// scrubbed masks secrets in what is written through it.
type scrubbed struct {
	w       io.Writer
	secrets []string
}

func (s *scrubbed) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, secret.Scrub(string(p), s.secrets)); err != nil {
		return 0, err
	}
	return len(p), nil
}

var (
	_ mysql.BinlogSink    = recordingSink{}
	_ postgres.WALArchive = recordingWAL{}
)

// oneLine is the first line of s, at most 300 bytes.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
