package artefact

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
	"github.com/dbbackup/dbbackup/store/s3"
)

// drainStore keeps every object in memory but the data objects, whose
// bodies it reads in part-sized buffers and drops, as an uploader would:
// what a backup costs without the network.
type drainStore struct {
	*memstore.Store
	buf []byte
}

func (d *drainStore) Put(ctx context.Context, key string, r io.Reader, opts store.PutOptions) (store.Object, error) {
	if !strings.HasSuffix(key, dataSuffix) {
		return d.Store.Put(ctx, key, r, opts)
	}
	var n int64
	for {
		k, err := io.ReadFull(r, d.buf)
		n += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return store.Object{Key: key, Size: n}, nil
		}
		if err != nil {
			return store.Object{}, err
		}
	}
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBackupPipeline runs Backup over a fixed in-memory dump (random
// hex text, as the benchmarks' text table, and pgbench-like repetitive
// rows) into a store that drops the data (drain) and into a real
// versitygw, and reports the CPU time of this process per MiB of dump
// (cpu-ms/MiB: the pipeline, the uploader's client side and the garbage
// collector; the S3 server's CPU is its own process's). With -benchmem
// it counts the pipeline's allocations; -memprofile shows where they are.
func BenchmarkBackupPipeline(b *testing.B) {
	const size = 64 << 20
	inputs := []struct {
		name string
		data []byte
	}{{"hex", hexRows(size)}, {"repetitive", repetitive(size)}}
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"drain", func(b *testing.B) store.Store {
			return &drainStore{Store: memstore.New(), buf: make([]byte, s3.DefaultPartSize)}
		}},
		{"versitygw", func(b *testing.B) store.Store {
			srv := testenv.StartVersityGW(b)
			srv.CreateBucket(b, "bench")
			st, err := s3.New(srv.StorageConfig("bench"), s3.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			st := s.open(b)
			for _, in := range inputs {
				b.Run(in.name, func(b *testing.B) {
					b.SetBytes(int64(len(in.data)))
					i := 0
					start := cpuTime(b)
					for b.Loop() {
						i++
						opts := BackupOptions{Engine: engine.PostgreSQL, Scope: "bench", JobID: fmt.Sprintf("%s-%s-%d-%d", s.name, in.name, b.N, i), Compression: true}
						if _, err := Backup(context.Background(), st, opts, fakeDump(in.data)); err != nil {
							b.Fatal(err)
						}
					}
					cpu := cpuTime(b) - start
					b.ReportMetric(float64(cpu.Milliseconds())/float64(i)/float64(len(in.data)>>20), "cpu-ms/MiB")
				})
			}
		})
	}
}
