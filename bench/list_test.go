package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// listCount is how many backups BenchmarkList10000 lists:
// DBBACKUP_BENCH_LIST, 10,000 by default (the target's size).
func listCount() int { return envInt("DBBACKUP_BENCH_LIST", 10000) }

// listTarget is the bound on listing 10,000 backups.
const listTarget = time.Second

// BenchmarkList10000 times `dbbackup list --scope pg --json` over 10,000
// backups of one scope on versitygw, each run a fresh process (no client,
// connection or cache of an earlier run; dbbackup keeps no cache at all).
// The backups are seeded as a dbbackup before cards left them (manifest
// and index entry, no card), so the first listing reads every index entry
// and writes the cards: timed once and reported, not judged (it happens
// once per bucket). Then, in alternating rounds: cold, with the machine's
// page cache dropped first (the S3 server reads its folders from disk),
// and warm. Each run must list every backup, complete. The target, under
// 1 s for both, is judged at 10,000 backups only.
func BenchmarkList10000(b *testing.B) {
	n := listCount()
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	cfg := srv.StorageConfig("bench")
	cfgFile := storageConfigFile(b, cfg)
	st, err := openStore(cfgFile)
	if err != nil {
		b.Fatal(err)
	}
	seed(b, st, n)
	r := report{b: b, title: fmt.Sprintf("list %d backups", n)}
	list := func(what string) measured {
		m := timed(b, what, dbbackupCmd(b, nil, "list", "--storage-config", cfgFile, "--scope", "pg", "--json"))
		var rows []struct {
			Complete bool `json:"complete"`
		}
		if err := json.Unmarshal(m.stdout, &rows); err != nil {
			b.Fatalf("%s: cannot read the listing: %v", what, err)
		}
		complete := 0
		for _, row := range rows {
			if row.Complete {
				complete++
			}
		}
		if len(rows) != n || complete != n {
			b.Fatalf("%s listed %d backups, %d complete, want %d complete", what, len(rows), complete, n)
		}
		return m
	}
	first := list("first list")
	r.line("first listing of backups made before cards (reads each index entry, writes its card): %s", series{first})
	dropped := dropCaches() == nil
	for b.Loop() {
		got := alternate(rounds(), []step{
			{"cold", func(int) measured {
				if err := dropCaches(); err != nil && !reportOnly() {
					b.Fatalf("a cold listing drops the page cache first: %v (run as root, or BENCH_TARGETS=report)", err)
				}
				return list("cold list")
			}},
			{"warm", func(int) measured { return list("warm list") }},
		})
		cold, warm := got[0], got[1]
		if dropped {
			r.line("cold (page cache dropped), fresh process: %s", cold)
		} else {
			r.line("cold NOT MEASURED (the page cache could not be dropped), fresh process: %s", cold)
		}
		r.line("warm, fresh process:                       %s", warm)
		if n == 10000 {
			r.judge("cold list", cold.median().Seconds(), listTarget.Seconds(), true, "%.2f s")
			r.judge("warm list", warm.median().Seconds(), listTarget.Seconds(), true, "%.2f s")
		} else {
			r.line("targets judged at 10000 backups only (DBBACKUP_BENCH_LIST=%d)", n)
		}
		b.ReportMetric(cold.median().Seconds(), "cold-s")
		b.ReportMetric(warm.median().Seconds(), "warm-s")
	}
}

// dropCaches writes the dirty pages out and drops the machine's page,
// dentry and inode caches (root only).
func dropCaches() error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0)
}

// seed writes n complete backups of scope pg as a dbbackup before cards
// laid them out (folder and index entry), copying the objects of one real
// backup under new job ids.
func seed(b testing.TB, st store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	mem := memstore.New()
	dump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		_, err := io.WriteString(w, "dump")
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}}, err
	}
	m, err := artefact.Backup(ctx, mem, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-x"}, dump)
	if err != nil {
		b.Fatal(err)
	}
	manifest, err := m.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	objs := map[string][]byte{}
	for obj, err := range mem.List(ctx, "pg/job-x/", store.ListOptions{Recursive: true}) {
		if err != nil {
			b.Fatal(err)
		}
		rc, err := mem.Get(ctx, obj.Key)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			b.Fatal(err)
		}
		objs[strings.TrimPrefix(obj.Key, "pg/job-x/")] = data
	}
	if _, ok := objs[artefact.ManifestName]; !ok {
		b.Fatalf("the model backup has no %s among %d objects", artefact.ManifestName, len(objs))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	put := func(key string, data []byte) bool {
		if _, err := st.Put(ctx, key, bytes.NewReader(data), store.PutOptions{}); err != nil {
			once.Do(func() { firstErr = err; cancel() })
			return false
		}
		return true
	}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				id := fmt.Sprintf("job-%05d", i)
				own := bytes.ReplaceAll(manifest, []byte(`"job-x"`), []byte(`"`+id+`"`))
				for name, data := range objs {
					if name == artefact.ManifestName {
						data = own
					}
					if !put("pg/"+id+"/"+name, data) {
						return
					}
				}
				if !put(artefact.Ref{Scope: "pg", JobID: id}.IndexKey(), own) {
					return
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("cannot seed %d backups: %v", n, firstErr)
	}
}
