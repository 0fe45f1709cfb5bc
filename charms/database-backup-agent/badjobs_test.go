package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store/s3"
)

// corpusBadJobs returns the invalid requirer entries of the foundation's
// corpus that carry a usable job-id, renamed bad-NN, as raw JSON items.
func corpusBadJobs(t *testing.T) (items []json.RawMessage, ids []string) {
	t.Helper()
	files, err := filepath.Glob("../../dbbackup/testdata/corpus/requirer/invalid-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var list []json.RawMessage
		if json.Unmarshal(data, &list) != nil {
			continue // not a list: the whole databag is refused, no job to report
		}
		for _, item := range list {
			var obj map[string]json.RawMessage
			if json.Unmarshal(item, &obj) != nil {
				continue
			}
			var id string
			if json.Unmarshal(obj["job-id"], &id) != nil || !dbbackup.ValidJobID(id) {
				continue // no usable job-id: cannot be reported
			}
			newID := fmt.Sprintf("bad-%02d", len(ids))
			obj["job-id"], _ = json.Marshal(newID)
			raw, _ := json.Marshal(obj)
			one := dbbackup.ParseJobs("["+string(raw)+"]", dbbackup.Requirer)
			if len(one.Entries) != 1 || one.Entries[0].Valid() {
				continue // valid on its own (e.g. the first of a duplicate pair)
			}
			items = append(items, raw)
			ids = append(ids, newID)
		}
	}
	return items, ids
}

// TestBadJobsMariaDB requests the corpus's invalid jobs and unworkable ones
// (wrong credentials, a missing bucket, an unreachable endpoint, a missing
// artefact, an artefact of the other engine) beside valid jobs, on MariaDB:
// each bad job gets error with a message, the valid ones succeed.
func TestBadJobsMariaDB(t *testing.T) {
	my := testenv.StartMariaDB(t)
	my.SQL(t, "", "CREATE DATABASE shop")
	my.SQL(t, "shop", "CREATE TABLE items (id int primary key, name text); INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	w := newWorld(t, dbServer{engine: "mysql", host: my.Host, port: my.Port, user: my.User, password: my.Password, db: "shop"}, 1)
	w.postgresArtefact(t, "other/pg1/")

	items, ids := corpusBadJobs(t)
	want := map[string]string{} // job-id -> part of its message
	for _, id := range ids {
		want[id] = "jobs["
	}
	unworkable := []struct {
		job  dbbackup.Job
		want string
	}{}
	add := func(j dbbackup.Job, msg string) {
		unworkable = append(unworkable, struct {
			job  dbbackup.Job
			want string
		}{j, msg})
	}
	wrong := w.backup("bad-wrong-secret")
	wrong.Storage.SecretKey = "wrong-secret-key"
	add(wrong, "")
	nobucket := w.backup("bad-no-bucket")
	nobucket.Storage.Bucket = "no-such-bucket"
	add(nobucket, "no-such-bucket")
	unreachable := w.backup("bad-unreachable")
	unreachable.Storage.Endpoint = "http://127.0.0.1:1"
	add(unreachable, "127.0.0.1:1")
	add(w.restore("bad-missing-artefact", "agent/never-made/"), "no complete backup")
	add(w.restore("bad-other-engine", "other/pg1/"), "postgresql backup")
	for _, u := range unworkable {
		want[u.job.ID] = u.want
	}
	valid := []dbbackup.Job{w.backup("ok-1"), w.backup("ok-2")}
	var all []dbbackup.Job
	all = append(all, valid[0])
	for _, u := range unworkable {
		all = append(all, u.job)
	}
	all = append(all, valid[1])
	text, err := dbbackup.MarshalJobs(all, dbbackup.Requirer)
	if err != nil {
		t.Fatal(err)
	}
	// Splice the corpus items into the list between the valid jobs.
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		t.Fatal(err)
	}
	list = append(list[:1], append(items, list[1:]...)...)
	raw, _ := json.Marshal(list)
	w.requestRaw(string(raw))
	if n := len(want); n < 30 {
		t.Fatalf("only %d bad jobs, want at least 30", n)
	}
	waitIDs := []string{"ok-1", "ok-2"}
	for id := range want {
		waitIDs = append(waitIDs, id)
	}
	got := w.wait(waitIDs...)
	for id, part := range want {
		j := got[id]
		t.Logf("%s: %s", id, j.Message)
		if j.Status != dbbackup.Error || j.Message == "" || !strings.Contains(j.Message, part) {
			t.Errorf("%s = %s %q, want error containing %q", id, j.Status, j.Message, part)
		}
	}
	for _, id := range []string{"ok-1", "ok-2"} {
		if got[id].Status != dbbackup.Success {
			t.Errorf("%s = %+v", id, got[id])
		}
	}
	w.secrets = append(w.secrets, "wrong-secret-key")
	w.checkNoSecrets()
	// A MariaDB round trip after all that.
	my.SQL(t, "shop", "DELETE FROM items")
	w.requestRaw(string(raw)) // unchanged list
	w.request(w.restore("ok-r", got["ok-1"].ArtefactPath))
	if r := w.wait("ok-r")["ok-r"]; r.Status != dbbackup.Success {
		t.Fatalf("ok-r = %+v", r)
	}
	if n := strings.TrimSpace(my.SQL(t, "shop", "SELECT COUNT(*) FROM items")); n != "3" {
		t.Errorf("restored %s rows, want 3", n)
	}
}

// postgresArtefact stores a complete backup that claims to be of
// PostgreSQL at path, without a PostgreSQL server.
func (w *world) postgresArtefact(t *testing.T, path string) {
	t.Helper()
	st, err := s3.New(w.storage(), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	scope, id, _ := strings.Cut(strings.Trim(path, "/"), "/")
	_, err = artefact.Backup(ctx, st, artefact.BackupOptions{Scope: scope, JobID: id, Engine: engine.PostgreSQL},
		func(ctx context.Context, out io.Writer, log io.Writer) (engine.Result, error) {
			n, err := io.Copy(out, bytes.NewReader([]byte("PGDMP fake")))
			return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Format: "pg_dump-custom",
				ServerVersion: "16", Databases: []string{"shop"}, Bytes: n, Tool: "pg_dump", ToolVersion: "16"}, err
		})
	if err != nil {
		t.Fatal(err)
	}
}
