package artefact_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
	"github.com/dbbackup/dbbackup/store/s3"
)

// BenchmarkList10000 lists 10,000 backups of one scope on versitygw: cold
// (no catalog: every index entry is read, then the catalog is written) and
// warm (the catalog answers). The target is under 1 s warm.
func BenchmarkList10000(b *testing.B) {
	const n = 10000
	srv := testenv.StartVersityGW(b)
	srv.CreateBucket(b, "bench")
	st, err := s3.New(srv.StorageConfig("bench"), s3.Options{})
	if err != nil {
		b.Fatal(err)
	}
	seed(b, st, n)
	ctx := context.Background()
	list := func(b *testing.B) {
		got, err := artefact.List(ctx, st, artefact.ListOptions{Scope: "pg", UpdateCatalog: true})
		if err != nil || len(got) != n {
			b.Fatalf("listed %d, %v", len(got), err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			st.Delete(ctx, "pg/"+artefact.CatalogName)
			b.StartTimer()
			list(b)
		}
	})
	b.Run("warm", func(b *testing.B) {
		list(b)
		for b.Loop() {
			list(b)
		}
	})
}

// seed writes n complete backups as Backup would lay them out, copying the
// objects of one real backup under new job ids.
func seed(b *testing.B, st store.Store, n int) {
	ctx := context.Background()
	mem := memstore.New()
	dump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, "dump")
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}}, nil
	}
	m, err := artefact.Backup(ctx, mem, artefact.BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-x"}, dump)
	if err != nil {
		b.Fatal(err)
	}
	manifest, _ := m.Marshal()
	objs := map[string][]byte{}
	for obj, err := range mem.List(ctx, "pg/job-x/", store.ListOptions{Recursive: true}) {
		if err != nil {
			b.Fatal(err)
		}
		rc, _ := mem.Get(ctx, obj.Key)
		data, _ := io.ReadAll(rc)
		rc.Close()
		objs[strings.TrimPrefix(obj.Key, "pg/job-x/")] = data
	}
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				id := fmt.Sprintf("job-%05d", i)
				for name, data := range objs {
					if name == artefact.ManifestName {
						data = bytes.ReplaceAll(manifest, []byte(`"job-x"`), []byte(`"`+id+`"`))
					}
					if _, err := st.Put(ctx, "pg/"+id+"/"+name, bytes.NewReader(data), store.PutOptions{}); err != nil {
						errs <- err
						return
					}
				}
				idx := bytes.ReplaceAll(manifest, []byte(`"job-x"`), []byte(`"`+id+`"`))
				if _, err := st.Put(ctx, artefact.Ref{Scope: "pg", JobID: id}.IndexKey(), bytes.NewReader(idx), store.PutOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
