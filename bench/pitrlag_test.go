package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine/mysql"
	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/pitr"
	"github.com/dbbackup/dbbackup/store"
	"github.com/dbbackup/dbbackup/store/memstore"
)

// writeLoad runs sysbench-like write-only transactions on src's
// shop.sbtest (rows rows) from two clients, each on its own half of the
// ids, as fast as the server takes them, for d; it returns how many
// transactions were sent (each client runs all it was sent before it
// exits).
func writeLoad(b *testing.B, src *testenv.MariaDB, rows int, d time.Duration) int {
	b.Helper()
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	deadline := time.Now().Add(d)
	for w := range 2 {
		cmd := exec.Command(mariaTool("mariadb", "mysql"), "--defaults-extra-file="+src.OptionFile(), "--database=shop", "--batch")
		in, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			out := bufio.NewWriter(in)
			for time.Now().Before(deadline) {
				id := 2*rnd.IntN(rows/2) + 1 + w
				fmt.Fprintf(out, "BEGIN; UPDATE sbtest SET k = k + 1 WHERE id = %d; UPDATE sbtest SET c = '%s' WHERE id = %d;\n"+
					"DELETE FROM sbtest WHERE id = %d; INSERT INTO sbtest (id, k, c, pad) VALUES (%d, %d, '%s', '%s'); COMMIT;\n",
					id, randomText(rnd, 120), id, id, id, rnd.IntN(rows), randomText(rnd, 120), randomText(rnd, 60))
				counts[w]++
			}
			if err := out.Flush(); err != nil {
				errs[w] = err
			}
			in.Close()
			if err := cmd.Wait(); err != nil {
				errs[w] = fmt.Errorf("writer %d: %v: %s", w, err, stderr.String())
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return counts[0] + counts[1]
}

// randomText is n random hexadecimal digits.
func randomText(rnd *rand.Rand, n int) string {
	var s strings.Builder
	for s.Len() < n {
		fmt.Fprintf(&s, "%016x", rnd.Uint64())
	}
	return s.String()[:n]
}

// durations are lag figures.
type durations []time.Duration

func (d durations) median() time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

func (d durations) max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// binlogPoint is the source's log position at a moment: a file of the
// log stream (a binary log, a WAL segment) and an offset in it.
type binlogPoint struct {
	at   time.Time // taken just before the position was read
	file string
	pos  int64
}

// lagSource is what the lag watcher samples and looks for: the source's
// log position now, and the archive's stream that must reach it.
type lagSource struct {
	stream string // artefact.LogStreamBinlog or artefact.LogStreamWAL
	// position reads the source's current file and offset.
	position func() (file string, pos int64, err error)
	// padded says a partial file is padded with zeros to its full size
	// (pg_receivewal's segments): what it holds ends at its last byte
	// that is not zero, a lower bound that keeps the lag an upper one.
	padded bool
}

// look returns how the watcher reads how far the archive reaches: binary
// logs through their pieces (archiveLook), WAL as whole files (logLook).
func (src lagSource) look(st store.Store, scope string) func(context.Context) (map[string]int64, error) {
	if src.stream == artefact.LogStreamBinlog {
		return newArchiveLook(st, scope).stored
	}
	l := &logLook{st: st, scope: scope, stream: src.stream, padded: src.padded, bytes: map[string]int64{}, seen: map[string]string{}}
	return l.stored
}

// binlogLag samples a MariaDB source's SHOW MASTER STATUS.
func binlogLag(src *testenv.MariaDB) lagSource {
	return lagSource{stream: artefact.LogStreamBinlog, position: func() (string, int64, error) {
		out, err := src.Exec("", "SHOW MASTER STATUS")
		f := strings.Fields(out)
		if err != nil || len(f) < 2 {
			return "", 0, fmt.Errorf("SHOW MASTER STATUS: %q: %v", out, err)
		}
		pos, err := strconv.ParseInt(f[1], 10, 64)
		return f[0], pos, err
	}}
}

// lagWatch samples the source's log position every 200 ms and watches
// the archive every 250 ms; each sample's lag is the time from the sample
// to the first look at the archive that finds its position stored. The
// look's own time (a list, and reading back a partial file that changed)
// counts in the lag: the figures are upper bounds.
type lagWatch struct {
	mu      sync.Mutex
	pending []binlogPoint
	lags    durations
	err     error
	sampled chan struct{} // closed when sampling must end
	done    chan struct{} // closed when the watcher must end
	endOnce sync.Once
	stopped sync.Once
	wg      sync.WaitGroup
}

func watchLag(b *testing.B, src lagSource, st store.Store, scope string) *lagWatch {
	w := &lagWatch{sampled: make(chan struct{}), done: make(chan struct{})}
	w.wg.Go(func() {
		for {
			at := time.Now()
			file, pos, err := src.position()
			if err != nil {
				w.fail(err)
				return
			}
			w.mu.Lock()
			w.pending = append(w.pending, binlogPoint{at: at, file: file, pos: pos})
			w.mu.Unlock()
			select {
			case <-w.sampled:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	w.wg.Go(func() {
		ctx := context.Background()
		look := src.look(st, scope)
		for {
			stored, err := look(ctx)
			if err != nil {
				w.fail(err)
				return
			}
			now := time.Now()
			w.mu.Lock()
			w.pending = resolveLags(w.pending, stored, now, &w.lags)
			w.mu.Unlock()
			select {
			case <-w.done:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	})
	b.Cleanup(w.end)
	return w
}

// archiveLook reads how far each file of a scope's binary log archive
// reaches, reading a file's tail again only when it changed.
type archiveLook struct {
	st     store.Store
	scope  string
	arch   pitr.BinlogArchive
	bytes  map[string]int64  // raw bytes stored of each file; MaxInt64: complete
	tailOf map[string]string // the key, size and time of the tail last read
}

func newArchiveLook(st store.Store, scope string) *archiveLook {
	return &archiveLook{st: st, scope: scope, arch: pitr.Archive{Store: st, Scope: scope}.Binlogs(),
		bytes: map[string]int64{}, tailOf: map[string]string{}}
}

// stored lists the archive and returns the raw bytes stored of each file
// (MaxInt64 when complete). A file being written reaches from 0 to the end
// of its last object: a tail's end is read from it; a sealed piece's is
// not (its start is taken), so the figure is never more than is stored.
func (l *archiveLook) stored(ctx context.Context) (map[string]int64, error) {
	files, err := l.arch.Files(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		switch {
		case f.Complete:
			l.bytes[f.Name] = math.MaxInt64
			continue
		case len(f.Objects) == 0 || l.bytes[f.Name] == math.MaxInt64:
			continue
		}
		last := f.Objects[len(f.Objects)-1]
		if last.Kind == mysql.PieceSealed {
			l.bytes[f.Name] = max(l.bytes[f.Name], last.Offset)
			continue
		}
		v := fmt.Sprint(last.Log.Key, last.Log.Stored, last.Log.ModTime)
		if l.tailOf[f.Name] == v {
			continue
		}
		got, err := artefact.GetLog(ctx, l.st, l.scope, artefact.LogStreamBinlog, last.Log.Name, last.Log.Partial, nil, io.Discard)
		if err != nil {
			continue // replaced while read: the next look reads it
		}
		l.tailOf[f.Name], l.bytes[f.Name] = v, max(l.bytes[f.Name], last.Offset+got.Size)
	}
	return l.bytes, nil
}

// logLook reads how far each file of a scope's stream of whole log files
// (WAL segments) reaches: a complete file all of it, a partial one what
// it holds (up to its last byte that is not zero when padded), read again
// only when it changed.
type logLook struct {
	st     store.Store
	scope  string
	stream string
	padded bool
	bytes  map[string]int64  // raw bytes stored of each file; MaxInt64: complete
	seen   map[string]string // a partial object's size and time when last read
}

func (l *logLook) stored(ctx context.Context) (map[string]int64, error) {
	logs, err := artefact.ListLogs(ctx, l.st, l.scope, l.stream)
	if err != nil {
		return nil, err
	}
	for _, f := range logs {
		if !f.Partial {
			l.bytes[f.Name] = math.MaxInt64
			continue
		}
		v := fmt.Sprint(f.Stored, f.ModTime)
		if l.seen[f.Name] == v || l.bytes[f.Name] == math.MaxInt64 {
			continue
		}
		ext := &extentWriter{}
		if _, err := artefact.GetLog(ctx, l.st, l.scope, l.stream, f.Name, true, nil, ext); err != nil {
			continue // replaced while read: the next look reads it
		}
		l.seen[f.Name], l.bytes[f.Name] = v, max(l.bytes[f.Name], ext.extent(l.padded))
	}
	return l.bytes, nil
}

// extentWriter counts what is written to it and where its last byte that
// is not zero ends.
type extentWriter struct{ n, end int64 }

func (e *extentWriter) Write(p []byte) (int, error) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0 {
			e.end = e.n + int64(i) + 1
			break
		}
	}
	e.n += int64(len(p))
	return len(p), nil
}

// extent is how much of the file is there: all that was written, or up
// to its last byte that is not zero when the file is padded.
func (e *extentWriter) extent(padded bool) int64 {
	if padded {
		return e.end
	}
	return e.n
}

// resolveLags appends to lags the lag of each point whose position is
// stored (stored holds each file's raw bytes in the archive, MaxInt64 when
// complete), seen at now, and returns the points still waiting.
func resolveLags(pending []binlogPoint, stored map[string]int64, now time.Time, lags *durations) []binlogPoint {
	return slices.DeleteFunc(pending, func(p binlogPoint) bool {
		if stored[p.file] >= p.pos {
			*lags = append(*lags, now.Sub(p.at))
			return true
		}
		return false
	})
}

func (w *lagWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// endSampling stops the sampling loop.
func (w *lagWatch) endSampling() { w.stopped.Do(func() { close(w.sampled) }) }

// end stops both loops and waits for them.
func (w *lagWatch) end() {
	w.endSampling()
	w.endOnce.Do(func() { close(w.done) })
	w.wg.Wait()
}

// stop ends the sampling, waits (within at most) until every sample is
// found in the archive, and returns the lags.
func (w *lagWatch) stop(b *testing.B, within time.Duration) durations {
	b.Helper()
	w.endSampling()
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		w.mu.Lock()
		left, err := len(w.pending), w.err
		w.mu.Unlock()
		if err != nil {
			w.end()
			b.Fatalf("cannot measure the archiver's lag: %v", err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			w.end()
			b.Fatalf("%d log positions were not in the archive %s after the load", left, within)
		}
	}
	w.end()
	return w.lags
}

// TestArchiveLook: a file being written reaches the end of its tail, or
// the start of a sealed piece that ends it (its end unread); a complete
// file, everything; the whole-file form of earlier versions is read too.
func TestArchiveLook(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	arch := pitr.Archive{Store: st, Scope: "my"}.Binlogs()
	put := func(file string, kind mysql.PieceKind, off int64, body string) {
		t.Helper()
		if err := arch.Put(ctx, mysql.BinlogPiece{File: file, Offset: off, Kind: kind}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	put("b.000001", mysql.PieceSealed, 0, "0123")
	put("b.000001", mysql.PieceLast, 4, "45")
	put("b.000002", mysql.PieceSealed, 0, "0123")
	put("b.000002", mysql.PieceTail, 4, "456")
	put("b.000003", mysql.PieceSealed, 0, "0123")
	put("b.000003", mysql.PieceSealed, 4, "4567")
	if _, err := artefact.PutLog(ctx, st, artefact.LogFileOptions{Scope: "my", Stream: artefact.LogStreamBinlog, Name: "b.000004", Partial: true}, strings.NewReader("abcde")); err != nil {
		t.Fatal(err)
	}
	look := newArchiveLook(st, "my")
	got, err := look.stored(ctx)
	want := map[string]int64{"b.000001": math.MaxInt64, "b.000002": 7, "b.000003": 4, "b.000004": 5}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("stored = %v, %v; want %v", got, err, want)
	}
	put("b.000002", mysql.PieceTail, 4, "45678")
	if got, _ := look.stored(ctx); got["b.000002"] != 9 {
		t.Fatalf("after the tail grew: %v", got)
	}
}

// TestResolveLags: a position is stored when its file is complete in the
// archive or its stored pieces hold that many bytes, not before; the lag
// runs from the sample to the look that found it.
func TestResolveLags(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	pending := []binlogPoint{
		{at: t0, file: "b.000001", pos: 900},
		{at: t0.Add(time.Second), file: "b.000002", pos: 500},
		{at: t0.Add(2 * time.Second), file: "b.000002", pos: 501},
		{at: t0.Add(3 * time.Second), file: "b.000003", pos: 4},
	}
	var lags durations
	stored := map[string]int64{"b.000001": math.MaxInt64, "b.000002": 500}
	pending = resolveLags(pending, stored, t0.Add(5*time.Second), &lags)
	if len(pending) != 2 || pending[0].pos != 501 || pending[1].file != "b.000003" {
		t.Fatalf("left %+v, want the points past what is stored", pending)
	}
	if want := (durations{5 * time.Second, 4 * time.Second}); !slices.Equal(lags, want) {
		t.Fatalf("lags %v, want %v", lags, want)
	}
	stored["b.000002"] = math.MaxInt64
	if pending = resolveLags(pending, stored, t0.Add(9*time.Second), &lags); len(pending) != 1 || lags.max() != 7*time.Second || lags.median() != 5*time.Second {
		t.Fatalf("left %+v, lags %v", pending, lags)
	}
}

// TestExtentWriter: a padded file's extent ends at its last byte that is
// not zero, wherever the writes split it; an unpadded one's is its size.
func TestExtentWriter(t *testing.T) {
	data := append([]byte("wal\x00record"), make([]byte, 100)...)
	for _, split := range []int{0, 5, 10, 11, 50, len(data)} {
		e := &extentWriter{}
		_, _ = e.Write(data[:split])
		_, _ = e.Write(data[split:])
		if got := e.extent(true); got != 10 {
			t.Errorf("split at %d: padded extent %d, want 10", split, got)
		}
		if got := e.extent(false); got != int64(len(data)) {
			t.Errorf("split at %d: extent %d, want %d", split, got, len(data))
		}
	}
	if got := (&extentWriter{}).extent(true); got != 0 {
		t.Errorf("nothing written: extent %d", got)
	}
}
