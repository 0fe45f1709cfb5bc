package artefact

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// countingStore counts Get calls.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func TestListCompleteIncompleteAndCatalog(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	for i := range 5 {
		opts := BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: fmt.Sprintf("job-%d", i), Compression: true, Now: now}
		if _, err := Backup(ctx, st, opts, fakeDump([]byte(strings.Repeat("x", 1000*(i+1))))); err != nil {
			t.Fatal(err)
		}
	}
	mysqlDump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, "CREATE TABLE t (a int);")
		return engine.Result{Kind: engine.MySQL, Method: engine.MethodLogical, Databases: []string{"shop"}}, nil
	}
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.MySQL, Scope: "maria", JobID: "job-m", Now: now}, mysqlDump); err != nil {
		t.Fatal(err)
	}
	// A backup killed midway: data, no manifest.
	putBytes(t, st, "pg/job-killed/postgresql-logical.zst.dbbk", []byte("DBBK partial"))

	got, err := List(ctx, st, ListOptions{UpdateCatalog: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, fmt.Sprintf("%s/%s:%v:%s", s.Scope, s.JobID, s.Complete, s.Engine))
	}
	want := "pg/job-killed:false:postgresql maria/job-m:true:mysql pg/job-4:true:postgresql pg/job-3:true:postgresql pg/job-2:true:postgresql pg/job-1:true:postgresql pg/job-0:true:postgresql"
	// The incomplete one sorts by its objects' time, which memstore sets
	// from the real clock, later than the fake one: first.
	if strings.Join(ids, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(ids, " "), want)
	}
	if got[1].Databases[0] != "shop" || got[2].RawBytes != 5000 || got[2].Duration() <= 0 {
		t.Fatalf("summaries lack manifest facts: %+v %+v", got[1], got[2])
	}

	// Second listing: every manifest comes from the catalogs.
	st.gets.Store(0)
	again, err := List(ctx, st, ListOptions{UpdateCatalog: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.gets.Load(); n != 2 {
		t.Fatalf("second listing made %d reads, want 2 (the two catalogs)", n)
	}
	if len(again) != len(got) || again[2].RawBytes != 5000 {
		t.Fatalf("catalog listing differs: %+v", again)
	}

	// A damaged catalog costs reads, not correctness.
	putBytes(t, st, "pg/"+CatalogName, []byte("{not json"))
	st.gets.Store(0)
	third, err := List(ctx, st, ListOptions{Scope: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(third) != 6 || st.gets.Load() != 6 {
		t.Fatalf("with a damaged catalog: %d backups, %d reads; want 6 and 6", len(third), st.gets.Load())
	}
}

func FuzzParseCatalog(f *testing.F) {
	f.Add([]byte(`{"format-version":1,"entries":{"j":{"summary":{"job-id":"j","complete":true}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCatalog(data)
		if err != nil {
			return
		}
		for id, e := range c.Entries {
			if e.Summary.JobID != id {
				t.Fatalf("accepted a mismatched entry %q", id)
			}
		}
	})
}

func TestListRepairsALostIndexEntry(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, fakeDump([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	// The process died between the manifest and its index entry.
	if err := st.Delete(ctx, Ref{Scope: "pg", JobID: "job-1"}.IndexKey()); err != nil {
		t.Fatal(err)
	}
	got, err := List(ctx, st, ListOptions{UpdateCatalog: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Complete || got[0].Engine != engine.PostgreSQL {
		t.Fatalf("got %+v, want one complete postgresql backup", got)
	}
	if _, err := st.Stat(ctx, Ref{Scope: "pg", JobID: "job-1"}.IndexKey()); err != nil {
		t.Fatalf("index entry not restored: %v", err)
	}
	// Deleted: gone from the listing, index and all.
	if err := Delete(ctx, st, "pg/job-1/"); err != nil {
		t.Fatal(err)
	}
	got, err = List(ctx, st, ListOptions{UpdateCatalog: true})
	if err != nil || len(got) != 0 {
		t.Fatalf("after delete: %+v, %v", got, err)
	}
	for obj, err := range st.List(ctx, "pg/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if obj.Key != "pg/"+CatalogName {
			t.Fatalf("delete left %s", obj.Key)
		}
	}
}
