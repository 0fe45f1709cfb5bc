// Command seedrequirer is a database_backup requirer that knows only the
// seed: its leader lists the requested jobs in its application databag
// (the list is also its history, until clear-history), with the storage
// configuration of its config, credentials inline; results are read from
// the provider units' databags. It uses none of dbbackup's packages.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gruyaume/goops"
)

type config struct {
	Bucket    string `json:"bucket"`
	Endpoint  string `json:"endpoint"`
	Region    string `json:"region"`
	Path      string `json:"path"`
	AccessKey string `json:"access-key"`
	SecretKey string `json:"secret-key"`
}

// job is one entry of jobs, every field kept as read.
type job map[string]any

func (j job) str(k string) string { s, _ := j[k].(string); return s }

func main() {
	env := goops.ReadEnv()
	if err := run(env); err != nil {
		if env.ActionName != "" {
			_ = goops.FailActionf("%v", err)
			return
		}
		goops.LogErrorf("%s: %v", env.HookName, err)
		os.Exit(1)
	}
}

func run(env goops.Environment) error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	ids, err := goops.GetRelationIDs("database-backup")
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		if env.ActionName != "" {
			return fmt.Errorf("no database is related")
		}
		return goops.SetUnitStatus(goops.StatusBlocked, "no database related")
	}
	id := ids[0]
	app, _, _ := strings.Cut(env.UnitName, "/")
	mine, err := goops.GetAppRelationData(id, app)
	if err != nil {
		return err
	}
	var jobs []job
	if strings.TrimSpace(mine["jobs"]) != "" {
		if err := json.Unmarshal([]byte(mine["jobs"]), &jobs); err != nil {
			return fmt.Errorf("cannot read my own jobs: %w", err)
		}
	}
	reports, err := readReports(id)
	if err != nil {
		return err
	}
	changed := false
	switch env.ActionName {
	case "create-backup", "restore":
		j := job{"job-id": fmt.Sprintf("seed-%d", time.Now().UnixNano()), "job-type": "backup",
			"job-config": map[string]any{"compression": true}, "storage-interface": "s3", "storage-config": storage(c)}
		if env.ActionName == "restore" {
			var p struct {
				BackupID string `json:"backup-id"`
			}
			if err := goops.GetActionParams(&p); err != nil {
				return err
			}
			r, ok := reports[p.BackupID]
			if !ok || r.str("status") != "success" || r.str("artefact-path") == "" {
				return fmt.Errorf("backup %q has no successful report with an artefact-path", p.BackupID)
			}
			j["job-type"], j["artefact-path"] = "restore", r.str("artefact-path")
		}
		jobs, changed = append(jobs, j), true
		if err := goops.SetActionResults(map[string]string{"job-id": j.str("job-id")}); err != nil {
			return err
		}
	case "request-raw":
		var p struct {
			Job string `json:"job"`
		}
		if err := goops.GetActionParams(&p); err != nil {
			return err
		}
		var j job
		if err := json.Unmarshal([]byte(p.Job), &j); err != nil {
			return fmt.Errorf("job is not a JSON object: %w", err)
		}
		jobs, changed = append(jobs, j), true
	case "clear-history":
		var kept []job
		for _, j := range jobs {
			if s := reports[j.str("job-id")].str("status"); s != "success" && s != "error" {
				kept = append(kept, j)
			}
		}
		changed = len(kept) != len(jobs)
		if err := goops.SetActionResults(map[string]string{"removed": fmt.Sprint(len(jobs) - len(kept))}); err != nil {
			return err
		}
		jobs = kept
	case "list-jobs":
		var lines []string
		for _, j := range jobs {
			r := reports[j.str("job-id")]
			lines = append(lines, fmt.Sprintf("%s %s %s %s", j.str("job-id"), j.str("job-type"), dash(r.str("status")), r.str("message")))
		}
		if err := goops.SetActionResults(map[string]string{"jobs": strings.Join(lines, "\n")}); err != nil {
			return err
		}
	}
	if changed {
		text := ""
		if len(jobs) > 0 {
			b, err := json.Marshal(jobs)
			if err != nil {
				return err
			}
			text = string(b)
		}
		if err := goops.SetAppRelationData(id, map[string]string{"jobs": text}); err != nil {
			return err
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, lastResult(jobs, reports))
}

// storage is the storage-config of a new job, as the seed shows it.
func storage(c config) map[string]any {
	s := map[string]any{"bucket": c.Bucket, "access-key": c.AccessKey, "secret-key": c.SecretKey}
	for k, v := range map[string]string{"endpoint": c.Endpoint, "region": c.Region, "path": c.Path} {
		if v != "" {
			s[k] = v
		}
	}
	return s
}

// readReports returns every provider unit's reports by job-id.
func readReports(id string) (map[string]job, error) {
	out := map[string]job{}
	units, err := goops.ListRelationUnits(id)
	if err != nil {
		return nil, err
	}
	sort.Strings(units)
	for _, u := range units {
		data, err := goops.GetUnitRelationData(id, u)
		if err != nil {
			return nil, err
		}
		var list []job
		if strings.TrimSpace(data["jobs"]) == "" || json.Unmarshal([]byte(data["jobs"]), &list) != nil {
			continue
		}
		for _, j := range list {
			if j != nil {
				out[j.str("job-id")] = j
			}
		}
	}
	return out, nil
}

// lastResult relays the latest job's outcome to the admin.
func lastResult(jobs []job, reports map[string]job) string {
	if len(jobs) == 0 {
		return "no job"
	}
	last := jobs[len(jobs)-1]
	r := reports[last.str("job-id")]
	msg := fmt.Sprintf("%s %s: %s", last.str("job-type"), last.str("job-id"), dash(r.str("status")))
	if r.str("message") != "" && r.str("status") == "error" {
		msg += ": " + r.str("message")
	}
	return msg
}

func dash(s string) string {
	if s == "" {
		return "waiting"
	}
	return s
}
