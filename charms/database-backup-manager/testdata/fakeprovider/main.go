// Command fakeprovider is a database_backup provider for the manager's
// tests: its leader runs each requested job inside a hook and reports it
// in its unit databag. A backup stores a small real artefact, so the
// manager's list-backups finds its manifest.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/backupagent"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store/s3"
)

type config struct {
	Engine       string `json:"engine"`
	Mode         string `json:"mode"`
	Capabilities string `json:"capabilities"`
}

func main() {
	env := goops.ReadEnv()
	if err := run(env); err != nil {
		goops.LogErrorf("%s: %v", env.HookName, err)
		os.Exit(1)
	}
}

func run(env goops.Environment) error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs("database-backup")
	if err != nil {
		return err
	}
	app, _, _ := strings.Cut(env.UnitName, "/")
	for _, id := range ids {
		manager, err := goops.GetRelationApp(id)
		if err != nil || manager == "" {
			continue
		}
		if err := goops.SetAppRelationData(id, map[string]string{dbbackup.CapabilitiesKey: c.Capabilities}); err != nil {
			return err
		}
		req, err := goops.GetAppRelationData(id, manager)
		if err != nil {
			return err
		}
		mine, err := goops.GetUnitRelationData(id, env.UnitName)
		if err != nil {
			return err
		}
		done := map[string]dbbackup.Job{}
		for _, j := range dbbackup.Databag(mine).Jobs(dbbackup.Provider).Jobs() {
			done[j.ID] = j
		}
		var out []dbbackup.Job
		for _, j := range dbbackup.Databag(req).Jobs(dbbackup.Requirer).Jobs() {
			if d, ok := done[j.ID]; ok && d.Status.Terminal() {
				out = append(out, d)
				continue
			}
			out = append(out, runJob(c, app, j))
		}
		// Keep earlier terminal reports the manager no longer requests.
		for _, d := range done {
			if !requested(out, d.ID) && d.Status.Terminal() {
				out = append(out, d)
			}
		}
		bag := dbbackup.Databag{dbbackup.JobsKey: mine[dbbackup.JobsKey]}
		changed, err := bag.SetJobs(out, dbbackup.Provider)
		if err != nil {
			return err
		}
		if changed {
			v := bag[dbbackup.JobsKey]
			if err := goops.SetUnitRelationData(id, map[string]string{dbbackup.JobsKey: v, "engine": c.Engine}); err != nil {
				return err
			}
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, "mode "+c.Mode)
}

func requested(jobs []dbbackup.Job, id string) bool {
	for _, j := range jobs {
		if j.ID == id {
			return true
		}
	}
	return false
}

// runJob runs one job at once and returns its report.
func runJob(c config, scope string, j dbbackup.Job) dbbackup.Job {
	j.Config = nil
	switch c.Mode {
	case "hold":
		j.Status, j.Message = dbbackup.Running, "dumping: 42% (simulated)"
		return j
	case "error":
		j.Status, j.Message = dbbackup.Error, "simulated failure of the "+string(j.Type)
		return j
	}
	if c.Mode == "partial" && j.Type != dbbackup.Backup {
		c.Mode = "success"
	}
	// The credentials travel as a Juju secret (credentials-secret); the
	// report keeps the storage configuration as requested.
	resolved, problem := backupagent.ResolveCredentials(j, func(uri string) (map[string]string, error) {
		return goops.GetSecretByID(uri, false, true)
	})
	if problem != "" {
		j.Status, j.Message = dbbackup.Error, problem
		return j
	}
	requested := j.Storage
	j.Storage = resolved.Storage
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if j.Type == dbbackup.Backup {
		err = backup(ctx, c, scope, &j)
	} else {
		err = restore(ctx, &j)
	}
	j.Storage = requested
	if err != nil {
		j.Status, j.Message = dbbackup.Error, err.Error()
		return j
	}
	j.Status = dbbackup.Success
	return j
}

func backup(ctx context.Context, c config, scope string, j *dbbackup.Job) error {
	st, err := s3.New(j.Storage, s3.Options{})
	if err != nil {
		return err
	}
	kind := engine.Kind(c.Engine)
	produce := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		fmt.Fprintf(log, "fake dump of %s: starting\n", scope)
		data := []byte(strings.Repeat("fake dump of "+scope+"\n", 64))
		if _, err := w.Write(data); err != nil {
			return engine.Result{}, err
		}
		if c.Mode == "partial" {
			return engine.Result{}, fmt.Errorf("simulated failure midway through the dump")
		}
		res := engine.Result{Kind: kind, Method: engine.MethodLogical, Format: "fake", Databases: []string{"db"}, Bytes: int64(len(data))}
		if m, err := j.BackupMethod(); err != nil {
			return res, err
		} else if m == dbbackup.MethodPhysical {
			now := time.Now().UTC()
			res.Method, res.Physical = engine.MethodPhysical, &engine.Physical{SystemID: "7000000000000000001", Timeline: 1,
				StartLSN: "0/2000028", EndLSN: "0/2000100", StartTime: now, EndTime: now, WALSegmentSize: 16 << 20}
		}
		if kind == engine.MySQL {
			// Where a MariaDB backup stands in the binary log: the start
			// of a restore to a time.
			res.Binlog = &engine.BinlogPosition{File: "mariadb-bin.000001", Position: 4}
		}
		return res, nil
	}
	m, err := artefact.Backup(ctx, st, artefact.BackupOptions{Scope: scope, JobID: j.ID, Engine: kind, Compression: true, Secrets: j.Storage.Secrets()}, produce)
	if err != nil {
		return err
	}
	j.ArtefactPath = m.Ref().Under(j.Storage.Path).Path()
	j.Message = "backup stored"
	return nil
}

func restore(ctx context.Context, j *dbbackup.Job) error {
	st, err := s3.NewRoot(j.Storage, s3.Options{})
	if err != nil {
		return err
	}
	ref, err := artefact.ParseRef(j.ArtefactPath)
	if err != nil {
		return err
	}
	prefix := ref.Path()
	if _, err := artefact.Verify(ctx, st, prefix, nil); err != nil {
		return fmt.Errorf("cannot verify %s: %w", prefix, err)
	}
	j.Message = "restored " + prefix
	at, err := j.RestoreToTime()
	if err != nil {
		return err
	}
	if !at.IsZero() {
		j.Message += " to " + at.Format(time.RFC3339Nano)
	}
	return nil
}
