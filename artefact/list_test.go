package artefact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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

// Gets returns how many objects were read through c.
func (c *countingStore) Gets() int64 { return c.gets.Load() }

// cardsOf returns the keys of every card object of scope.
func cardsOf(t *testing.T, st store.Store, scope string) []string {
	t.Helper()
	var keys []string
	for obj, err := range st.List(context.Background(), cardsFolder(scope), store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

// sameSummaries fails unless got lists exactly the summaries of want (the
// manifests' own, less the time of their objects), in order.
func sameSummaries(t *testing.T, what string, got, want []Summary) {
	t.Helper()
	norm := func(ss []Summary) string {
		var b strings.Builder
		for _, s := range ss {
			s.LastModified = time.Time{}
			js, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(append(js, '\n'))
		}
		return b.String()
	}
	if g, w := norm(got), norm(want); g != w {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func TestListCompleteIncompleteAndCards(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	clock := time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	var manifests []Manifest
	for i := range 5 {
		opts := BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: fmt.Sprintf("job-%d", i), Compression: true, Now: now}
		m, err := Backup(ctx, st, opts, fakeDump([]byte(strings.Repeat("x", 1000*(i+1)))))
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, m)
	}
	mysqlDump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, "CREATE TABLE t (a int);")
		return engine.Result{Kind: engine.MySQL, Method: engine.MethodLogical, Databases: []string{"shop"},
			ServerVersion: "10.11.6-MariaDB", Binlog: &engine.BinlogPosition{File: "mariadb-bin.000007", Position: 4711, GTID: "0-1-42"}}, nil
	}
	key := bytes.Repeat([]byte{7}, KeySize)
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.MySQL, Scope: "maria", JobID: "job-m", Now: now, Key: key, Compression: true}, mysqlDump)
	if err != nil {
		t.Fatal(err)
	}
	manifests = append(manifests, m)
	// A backup killed midway: data, no manifest.
	putBytes(t, st, "pg/job-killed/postgresql-logical.zst.dbbk", []byte("DBBK partial"))

	// Every complete backup wrote its card: the listing reads no object,
	// and says what the manifests say.
	got, err := List(ctx, st, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.gets.Load(); n != 0 {
		t.Fatalf("the listing read %d objects, want none (every summary from a card)", n)
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
	var fromManifests []Summary
	for i := len(manifests) - 1; i >= 0; i-- {
		fromManifests = append(fromManifests, manifests[i].summary())
	}
	sameSummaries(t, "the listing from cards", got[1:], fromManifests)
	if got[1].Binlog == nil || got[1].Binlog.GTID != "0-1-42" || got[1].KeyFingerprint == "" || got[2].RawBytes != 5000 {
		t.Fatalf("summaries lack manifest facts: %+v %+v", got[1], got[2])
	}

	// Backups of a dbbackup before cards (or whose card was lost): each
	// is read from its index entry, with the same result; a listing that
	// may repair writes their cards, and the next reads nothing again.
	for _, k := range cardsOf(t, st, "pg") {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	st.gets.Store(0)
	again, err := List(ctx, st, ListOptions{Scope: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.gets.Load(); n != 5 {
		t.Fatalf("without cards the listing read %d objects, want 5 (the index entries)", n)
	}
	sameSummaries(t, "the incomplete backup", again[:1], got[:1])
	if len(again) != 6 {
		t.Fatalf("without cards: %d backups, want 6", len(again))
	}
	sameSummaries(t, "the listing from the index", again[1:], fromManifests[1:])
	if keys := cardsOf(t, st, "pg"); len(keys) != 0 {
		t.Fatalf("a listing without Repair wrote %v", keys)
	}
	if _, err := List(ctx, st, ListOptions{Scope: "pg", Repair: true}); err != nil {
		t.Fatal(err)
	}
	if keys := cardsOf(t, st, "pg"); len(keys) != 5 {
		t.Fatalf("Repair wrote cards %v, want one per complete backup", keys)
	}
	st.gets.Store(0)
	third, err := List(ctx, st, ListOptions{Scope: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.gets.Load(); n != 0 {
		t.Fatalf("after Repair the listing read %d objects, want none", n)
	}
	sameSummaries(t, "the listing from repaired cards", third[1:], fromManifests[1:])
}

// TestListDistrustsOddCards: a card that cannot be read, a second card for
// one backup, a card with content, and a card for a folder that does not
// exist cost reads, never a wrong listing; Repair leaves one good card.
func TestListDistrustsOddCards(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	var want []Summary
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: id}, fakeDump([]byte(id)))
		if err != nil {
			t.Fatal(err)
		}
		want = append([]Summary{m.summary()}, want...)
	}
	good := cardsOf(t, st, "pg")
	if len(good) != 3 {
		t.Fatalf("cards %v, want three", good)
	}
	forged := Summary{Scope: "pg", JobID: "job-2", Prefix: "pg/job-2/", Complete: true, Engine: engine.MySQL,
		Method: engine.MethodLogical, StartedAt: time.Unix(1, 0), FinishedAt: time.Unix(2, 0), Compression: CompressionNone, Encryption: EncryptionNone}
	forgedKey, err := cardKey(forged)
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, st, forgedKey, nil)                 // job-2: two cards
	putBytes(t, st, "pg/_cards/job-1~!!!!/c", nil)  // job-1: two cards, one unreadable
	if err := st.Delete(ctx, good[2]); err != nil { // job-3: one card, unreadable
		t.Fatal(err)
	}
	putBytes(t, st, "pg/_cards/job-3~"+strings.Repeat("A", 9)+"/c", nil)
	ghost := forged
	ghost.JobID, ghost.Prefix = "job-9", "pg/job-9/"
	ghostKey, _ := cardKey(ghost)
	putBytes(t, st, ghostKey, nil) // no folder job-9
	st.gets.Store(0)
	got, err := List(ctx, st, ListOptions{Scope: "pg", Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSummaries(t, "the listing with odd cards", got, want)
	if n := st.gets.Load(); n != 3 {
		t.Fatalf("the listing read %d objects, want 3 (each backup's index entry)", n)
	}
	st.gets.Store(0)
	got, err = List(ctx, st, ListOptions{Scope: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	sameSummaries(t, "the listing after Repair", got, want)
	if n := st.gets.Load(); n != 0 {
		t.Fatalf("after Repair the listing read %d objects, want none", n)
	}
	if keys := cardsOf(t, st, "pg"); len(keys) != 4 || !slices.Contains(keys, ghostKey) {
		t.Fatalf("after Repair: cards %v, want one per backup and the ghost's (no folder: never listed)", keys)
	}
}

// TestCardTooLongForAKey: a backup whose summary does not fit in a key
// (many long database names) has no card and is listed from its index.
func TestCardTooLongForAKey(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memstore.New()}
	var dbs []string
	for i := range 40 { // names that do not compress
		sum := sha256.Sum256([]byte{byte(i)})
		dbs = append(dbs, fmt.Sprintf("db_%x", sum[:20]))
	}
	dump := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
		io.WriteString(w, "dump")
		return engine.Result{Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: dbs}, nil
	}
	m, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, dump)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cardKey(m.summary()); err == nil {
		t.Fatal("cardKey took a summary too long for a key")
	}
	if keys := cardsOf(t, st, "pg"); len(keys) != 0 {
		t.Fatalf("cards %v, want none", keys)
	}
	got, err := List(ctx, st, ListOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSummaries(t, "a backup without a card", got, []Summary{m.summary()})
	if n := st.gets.Load(); n != 1 {
		t.Fatalf("the listing read %d objects, want 1 (the index entry)", n)
	}
}

// FuzzParseCard: a card's key never panics the parser, and what it
// accepts is a complete backup whose card is that same key.
func FuzzParseCard(f *testing.F) {
	s := Summary{Scope: "pg", JobID: "job-1", Prefix: "pg/job-1/", Complete: true, Engine: engine.MySQL, Method: engine.MethodLogical,
		Databases: []string{"shop"}, StartedAt: time.Unix(1, 5), FinishedAt: time.Unix(2, 0), RawBytes: 3, StoredBytes: 4,
		Compression: CompressionZstd, Encryption: EncryptionNone, Binlog: &engine.BinlogPosition{File: "b.000001", Position: 4}}
	key, err := cardKey(s)
	if err != nil {
		f.Fatal(err)
	}
	name := strings.TrimSuffix(strings.TrimPrefix(key, cardsFolder("pg")), "/"+cardObject)
	f.Add(name)
	f.Add("job-1~AAAA")
	f.Add("job-1~" + strings.Repeat("A", 300))
	f.Fuzz(func(t *testing.T, name string) {
		s, err := parseCard("pg", name)
		if err != nil {
			return
		}
		if !s.Complete || CheckJobID(s.JobID) != nil || s.Prefix != "pg/"+s.JobID+"/" || s.FinishedAt.Before(s.StartedAt) {
			t.Fatalf("accepted %q as %+v", name, s)
		}
		key, err := cardKey(s)
		if err != nil {
			t.Fatalf("accepted %q, which cannot be written again: %v", name, err)
		}
		again, err := parseCard("pg", strings.TrimSuffix(strings.TrimPrefix(key, cardsFolder("pg")), "/"+cardObject))
		if err != nil || !again.StartedAt.Equal(s.StartedAt) || !again.FinishedAt.Equal(s.FinishedAt) || again.RawBytes != s.RawBytes ||
			!slices.Equal(again.Databases, s.Databases) || again.Engine != s.Engine || again.KeyFingerprint != s.KeyFingerprint {
			t.Fatalf("%q read back as %+v, %v; want %+v", name, again, err, s)
		}
	})
}

func TestListRepairsALostIndexEntry(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if _, err := Backup(ctx, st, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: "job-1"}, fakeDump([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	// The process died between the manifest and its index entry (so
	// before its card).
	if err := st.Delete(ctx, Ref{Scope: "pg", JobID: "job-1"}.IndexKey()); err != nil {
		t.Fatal(err)
	}
	for _, k := range cardsOf(t, st, "pg") {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := List(ctx, st, ListOptions{Repair: true})
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
	if keys := cardsOf(t, st, "pg"); len(keys) != 1 {
		t.Fatalf("card not restored: %v", keys)
	}
	if err := Delete(ctx, st, "pg/job-1/"); err != nil {
		t.Fatal(err)
	}
	got, err = List(ctx, st, ListOptions{Repair: true})
	if err != nil || len(got) != 0 {
		t.Fatalf("after delete: %+v, %v", got, err)
	}
	for obj, err := range st.List(ctx, "pg/", store.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("delete left %s", obj.Key)
	}
}

// readOnlyStore refuses every write and counts the attempts.
type readOnlyStore struct {
	store.Store
	puts atomic.Int64
}

var errReadOnly = errors.New("AccessDenied: read-only keys")

func (r *readOnlyStore) Put(ctx context.Context, key string, body io.Reader, opts store.PutOptions) (store.Object, error) {
	r.puts.Add(1)
	return store.Object{}, errReadOnly
}

// TestRepairStopsAtTheFirstRefusal: a lister with read-only keys over 200
// backups without cards lists them all, and tries a handful of writes,
// not one per backup.
func TestRepairStopsAtTheFirstRefusal(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	for i := range 200 {
		if _, err := Backup(ctx, mem, BackupOptions{Engine: engine.PostgreSQL, Scope: "pg", JobID: fmt.Sprintf("job-%03d", i)}, fakeDump([]byte("x"))); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range cardsOf(t, mem, "pg") {
		if err := mem.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	ro := &readOnlyStore{Store: mem}
	got, err := List(ctx, ro, ListOptions{Scope: "pg", Repair: true, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("listed %d backups, want 200", len(got))
	}
	if n := ro.puts.Load(); n == 0 || n > 4 {
		t.Fatalf("a read-only lister tried %d writes, want 1 to 4 (one per worker at most)", n)
	}
}

// TestForgedCardDecidesNoRestore: anyone who can write the bucket can
// forge a card, as an index entry before it, for a backup killed midway;
// the listing then shows what the card says, but a restore and a verify
// read the folder's own objects and refuse it before the consumer sees a
// byte.
func TestForgedCardDecidesNoRestore(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	putBytes(t, st, "pg/job-killed/postgresql-logical.zst.dbbk", []byte("DBBK partial"))
	forged := Summary{Scope: "pg", JobID: "job-killed", Prefix: "pg/job-killed/", Complete: true, Engine: engine.PostgreSQL,
		Method: engine.MethodLogical, StartedAt: time.Unix(1, 0), FinishedAt: time.Unix(2, 0), Compression: CompressionZstd, Encryption: EncryptionNone}
	key, err := cardKey(forged)
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, st, key, nil)
	got, err := List(ctx, st, ListOptions{Scope: "pg"})
	if err != nil || len(got) != 1 || !got[0].Complete {
		t.Fatalf("listing with a forged card: %+v, %v; want the card's word", got, err)
	}
	consumed := false
	_, _, err = Restore(ctx, st, "pg/job-killed/", RestoreOptions{}, func(ctx context.Context, r io.Reader) (engine.Result, error) {
		consumed = true
		return engine.Result{}, nil
	})
	if !errors.Is(err, ErrIncomplete) || consumed {
		t.Fatalf("restore of a forged card's backup: %v (consumer called: %v), want ErrIncomplete before the consumer", err, consumed)
	}
	if _, err := Verify(ctx, st, "pg/job-killed/", nil); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("verify of a forged card's backup: %v, want ErrIncomplete", err)
	}
}
