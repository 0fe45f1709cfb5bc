// Command seedprovider is a database_backup provider that knows only the
// seed: jobs in the requirer's application databag, inline S3 credentials
// in storage-config, one report per job in the unit databag of the unit
// that ran it. The leader runs every job inside the hook that sees it. Its
// database is one file; a backup is that file as one object, a restore
// writes the object back. It uses none of dbbackup's packages.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type config struct {
	Data  string `json:"data"`
	Leaky bool   `json:"leaky"`
	Fail  bool   `json:"fail"`
	Pause bool   `json:"pause"`
}

// job is one entry of jobs, every field kept as read.
type job map[string]any

func (j job) str(k string) string { s, _ := j[k].(string); return s }

func main() {
	env := goops.ReadEnv()
	if err := run(env); err != nil {
		goops.LogErrorf("%s: %v", env.HookName, err)
		os.Exit(1)
	}
}

func dbFile(env goops.Environment) string {
	return filepath.Join(filepath.Dir(env.CharmDir), "seed-database")
}

func run(env goops.Environment) error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	if env.HookName == "config-changed" || env.HookName == "install" {
		if err := os.WriteFile(dbFile(env), []byte(c.Data), 0o600); err != nil {
			return err
		}
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return err
	}
	if leader {
		ids, err := goops.GetRelationIDs("database-backup")
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := serve(env, c, id); err != nil {
				return err
			}
		}
	}
	data, _ := os.ReadFile(dbFile(env))
	return goops.SetUnitStatus(goops.StatusActive, "database: "+string(data))
}

// serve runs the requested jobs not yet reported and reports only the
// jobs still requested.
func serve(env goops.Environment, c config, id string) error {
	requirer, err := goops.GetRelationApp(id)
	if err != nil || requirer == "" {
		return err
	}
	req, err := goops.GetAppRelationData(id, requirer)
	if err != nil {
		return err
	}
	mine, err := goops.GetUnitRelationData(id, env.UnitName)
	if err != nil {
		return err
	}
	var requested, reported []job
	if strings.TrimSpace(req["jobs"]) != "" {
		if err := json.Unmarshal([]byte(req["jobs"]), &requested); err != nil {
			goops.LogWarningf("the requirer's jobs are not a JSON array: %v", err)
			return nil
		}
	}
	if mine["jobs"] != "" {
		_ = json.Unmarshal([]byte(mine["jobs"]), &reported)
	}
	done := map[string]job{}
	for _, r := range reported {
		done[r.str("job-id")] = r
	}
	var out []job
	for _, j := range requested {
		if j == nil || j.str("job-id") == "" {
			continue // nothing to answer to
		}
		if r, ok := done[j.str("job-id")]; ok && r.str("status") != "running" {
			out = append(out, r)
			continue
		}
		if !c.Pause {
			out = append(out, runJob(env, c, j))
		}
	}
	text := ""
	if len(out) > 0 {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		text = string(b)
	}
	if text == mine["jobs"] {
		return nil
	}
	return goops.SetUnitRelationData(id, map[string]string{"jobs": text})
}

// runJob runs j and returns its report: the job as requested, with
// status, message and (for a backup) artefact-path.
func runJob(env goops.Environment, c config, j job) job {
	rep := job{}
	for k, v := range j {
		rep[k] = v
	}
	sc, _ := j["storage-config"].(map[string]any)
	get := func(k string) string { s, _ := sc[k].(string); return s }
	fail := func(msg string) job {
		rep["status"], rep["message"] = "error", msg
		return rep
	}
	switch {
	case j.str("job-type") != "backup" && j.str("job-type") != "restore":
		return fail(fmt.Sprintf("job-type %q is neither backup nor restore", j.str("job-type")))
	case j.str("storage-interface") != "s3":
		return fail("storage-interface must be s3")
	case get("bucket") == "" || get("access-key") == "" || get("secret-key") == "":
		return fail("storage-config needs bucket, access-key and secret-key")
	case j.str("job-type") == "restore" && j.str("artefact-path") == "":
		return fail("a restore needs artefact-path")
	}
	endpoint := get("endpoint")
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	client, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(get("access-key"), get("secret-key"), ""),
		Secure: strings.HasPrefix(endpoint, "https://"), Region: get("region"),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return fail("cannot reach the storage: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	note := ""
	if c.Leaky {
		note = " (signed with access key " + get("access-key") + ")"
	}
	if c.Fail {
		return fail("refused: config fail is set" + note)
	}
	if j.str("job-type") == "backup" {
		data, err := os.ReadFile(dbFile(env))
		if err != nil {
			return fail("cannot read the database: " + err.Error())
		}
		key := strings.Trim(get("path")+"/seed-dumps/"+j.str("job-id")+".dump", "/")
		if _, err := client.PutObject(ctx, get("bucket"), key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			return fail("cannot upload the backup: " + err.Error() + note)
		}
		rep["status"], rep["artefact-path"] = "success", key
		rep["message"] = fmt.Sprintf("uploaded %d bytes%s", len(data), note)
		return rep
	}
	key := strings.TrimPrefix(j.str("artefact-path"), "/")
	obj, err := client.GetObject(ctx, get("bucket"), key, minio.GetObjectOptions{})
	if err != nil {
		return fail("cannot download the backup: " + err.Error() + note)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, 1<<20))
	if err != nil {
		return fail("cannot download " + key + ": " + err.Error() + note)
	}
	if err := os.WriteFile(dbFile(env), data, 0o600); err != nil {
		return fail("cannot write the database: " + err.Error())
	}
	rep["status"], rep["message"] = "success", fmt.Sprintf("restored %d bytes from %s%s", len(data), key, note)
	return rep
}
