package manager

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// backup is one row of list-backups: a backup job of the history, a
// backup found in the bucket, or both.
type backup struct {
	ID          string    `json:"backup-id"`
	Application string    `json:"application"`
	Engine      string    `json:"engine,omitempty"`
	Status      string    `json:"status"`
	Started     time.Time `json:"started,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
	Size        int64     `json:"size"`
	Path        string    `json:"artefact-path,omitempty"`
	Restorable  bool      `json:"restorable"`
	Message     string    `json:"message,omitempty"`
	// KeyFingerprint names the key of an encrypted backup (its record's).
	KeyFingerprint string `json:"key-fingerprint,omitempty"`
	// Verified is the backup's latest verification (verify-backup).
	Verified string `json:"verified,omitempty"`
}

// Statuses of list-backups beyond the history's.
const (
	// statusIncomplete: a folder in the bucket without a manifest.
	statusIncomplete = "incomplete"
	// statusMissing: the history says success, the bucket has no manifest.
	statusMissing = "missing"
)

// mergeBackups joins the backup jobs of the history with the backups in
// the bucket (listed under storagePath), newest first (see backupTime). Only app's when app
// is set. A backup is restorable when the bucket holds its manifest; when
// the bucket was listed (listed), a successful job without a manifest there
// is shown as missing.
func mergeBackups(h requirer.History, sums []artefact.Summary, listed bool, storagePath, app string) []backup {
	byID := map[string]*backup{}
	var out []*backup
	for _, r := range h.Records {
		if r.Type != dbbackup.Backup || (app != "" && r.Application != app) {
			continue
		}
		b := &backup{ID: r.JobID, Application: r.Application, Status: string(r.Status),
			Started: r.StartedAt, Finished: r.FinishedAt, Path: r.ArtefactPath, Message: r.Message,
			KeyFingerprint: r.KeyFingerprint}
		if b.Started.IsZero() {
			b.Started = r.RequestedAt
		}
		byID[r.JobID] = b
		out = append(out, b)
	}
	for _, s := range sums {
		if app != "" && s.Scope != app {
			continue
		}
		b, ok := byID[s.JobID]
		if !ok || b.Application != s.Scope {
			b = &backup{ID: s.JobID, Application: s.Scope, Status: string(dbbackup.Success)}
			if !s.Complete {
				b.Status = statusIncomplete
			}
			out = append(out, b)
		}
		b.Engine = string(s.Engine)
		b.Size = s.StoredBytes
		b.Path = s.Ref().Under(storagePath).Path()
		b.Restorable = s.Complete && b.Status == string(dbbackup.Success)
		if !s.StartedAt.IsZero() {
			b.Started = s.StartedAt
		}
		if !s.FinishedAt.IsZero() {
			b.Finished = s.FinishedAt
		} else if !s.Complete && !s.LastModified.IsZero() && b.Finished.IsZero() && b.Status == statusIncomplete {
			b.Finished = s.LastModified
		}
	}
	rows := make([]backup, 0, len(out))
	for _, b := range out {
		if listed && b.Status == string(dbbackup.Success) && !b.Restorable {
			switch {
			case strings.HasPrefix(b.Message, deletedNote):
				b.Status = statusDeleted
			case b.Path != "":
				b.Status, b.Restorable = statusUnverified, true
				b.Message = joinNote(b.Message, unverifiedNote)
			default:
				b.Status = statusMissing
				if b.Message == "" {
					b.Message = "no manifest in the bucket"
				}
			}
		}
		rows = append(rows, *b)
	}
	sortBackups(rows)
	return rows
}

// listBucket lists the backups in the bucket (of one application when app
// is set), writing the index entries and cards it found missing so the
// next listing reads no manifest.
func listBucket(ctx context.Context, cfg dbbackup.StorageConfig, app string) ([]artefact.Summary, error) {
	return listWith(ctx, cfg, artefact.ListOptions{Scope: app, Repair: true})
}

// listWith lists the backups in the bucket with opts.
func listWith(ctx context.Context, cfg dbbackup.StorageConfig, opts artefact.ListOptions) ([]artefact.Summary, error) {
	st, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	sums, err := artefact.List(ctx, st, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot list the backups in bucket %s: %w", cfg.Bucket, err)
	}
	return sums, nil
}
