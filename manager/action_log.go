package manager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/internal/secret"
	"github.com/dbbackup/dbbackup/store"
)

// Bounds of show-backup-log's answer: action results travel as
// command-line arguments of action-set.
const (
	defaultLogSize = 16 << 10
	maxLogSize     = 64 << 10
)

// logParams are the parameters of show-backup-log.
type logParams struct {
	BackupID string `json:"backup-id"`
	Size     int    `json:"size"`
}

// showBackupLog shows the end of the job log stored beside a backup
// (backup.log), at most size bytes, scrubbed of every credential the
// manager knows. A failed backup's log is shown too: it is kept without a
// manifest.
func (w *world) showBackupLog() error {
	var p logParams
	if err := goops.GetActionParams(&p); err != nil {
		return fail("cannot read the parameters: %v", err)
	}
	id := strings.TrimSpace(p.BackupID)
	if !dbbackup.ValidJobID(id) {
		return fail("backup-id %q is not a backup id: run list-backups to see them", clipText(id, 40))
	}
	size := p.Size
	if size == 0 {
		size = defaultLogSize
	}
	if size < 1 || size > maxLogSize {
		return fail("size %d is out of range: give 1 to %d bytes", p.Size, maxLogSize)
	}
	if rec, ok := w.history.Find(id); ok && rec.Type != dbbackup.Backup {
		return fail("%s is a %s job, not a backup: only backups keep a log in the bucket", id, rec.Type)
	}
	if w.s3.problem != "" {
		return fail("%s", w.s3.problem)
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	scope := ""
	if rec, ok := w.history.Find(id); ok {
		scope = rec.Application
	}
	sums, err := listScope(ctx, w.s3.storage, scope)
	if err != nil {
		return err
	}
	sum, ok := findBackup(sums, id)
	if !ok {
		return fail("backup %s not found in bucket %s (deleted, or stored with another bucket or path): run list-backups to see the backups", id, w.s3.storage.Bucket)
	}
	st, err := openStore(w.s3.storage)
	if err != nil {
		return err
	}
	key, err := w.keyOf(sum, "read the log of")
	if err != nil {
		return err
	}
	tries := [][]byte{key}
	if !sum.Complete && w.enc.problem == "" {
		// No manifest names the key of a failed backup's log: an
		// encrypted one is tried with each key of encryption-secret.
		tries = append(tries, w.enc.keys...)
	}
	var (
		buf      bytes.Buffer
		complete bool
	)
	for i, k := range tries {
		buf.Reset()
		complete, err = artefact.ReadBackupLog(ctx, st, sum.Prefix, k, &buf)
		if i == len(tries)-1 || !(errors.Is(err, artefact.ErrWrongKey) || errors.Is(err, artefact.ErrCorrupt)) {
			break
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail("backup %s of %s has no log in the bucket (still starting, or its folder was cleaned up)", id, sum.Scope)
	case errors.Is(err, artefact.ErrWrongKey):
		return fail("the log of backup %s of %s is encrypted and no key of encryption-secret opens it", id, sum.Scope)
	case err != nil:
		return fail("cannot read the log of backup %s of %s: %v", id, sum.Scope, err)
	}
	text := secret.Scrub(buf.String(), w.secrets())
	shown, cut := logTail(text, size)
	res := map[string]string{
		"backup-id": id, "application": sum.Scope, "log": shown,
		"log-bytes": strconv.Itoa(len(text)), "shown-bytes": strconv.Itoa(len(shown)),
		"complete": strconv.FormatBool(complete),
	}
	if cut {
		res["note"] = fmt.Sprintf("the last %d of %d bytes; size=%d shows up to that many", len(shown), len(text), maxLogSize)
	}
	if !complete {
		res["note"] = joinNote(res["note"], "the backup has no manifest (failed or unfinished): the log is shown as stored, unchecked")
	}
	return goops.SetActionResults(res)
}

// logTail returns the last size bytes of text, starting on a whole line
// (and a whole character) when the text is cut.
func logTail(text string, size int) (string, bool) {
	if len(text) <= size {
		return text, false
	}
	tail := text[len(text)-size:]
	if i := strings.IndexByte(tail, '\n'); i >= 0 && i < len(tail)-1 {
		return tail[i+1:], true
	}
	for len(tail) > 0 && !utf8.RuneStart(tail[0]) {
		tail = tail[1:]
	}
	return tail, true
}
