package artefact_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/artefact"
	"github.com/dbbackup/dbbackup/engine"
	"github.com/dbbackup/dbbackup/internal/testenv"
)

func TestCardsOnVersityGW(t *testing.T) { testCards(t, testenv.StartVersityGW(t)) }

func TestCardsOnMinIO(t *testing.T) { testCards(t, testenv.StartMinIO(t)) }

// testCards: on a real S3 server, every backup's summary comes back from
// a listing that reads no object, equal to its manifest, but for the one
// whose summary does not fit in a card (many databases), read from its
// index entry; a deletion through the bucket's root removes the backup's
// card with it.
func testCards(t *testing.T, srv *testenv.S3Server) {
	ctx := context.Background()
	under, root := newS3(t, srv, "team/a")
	st := artefact.NewCountingStore(under)
	var many []string
	for i := range 8 { // names that do not compress: too long for a card
		sum := sha256.Sum256([]byte{byte(i)})
		many = append(many, fmt.Sprintf("db_%x", sum[:12]))
	}
	results := map[string]engine.Result{
		"job-1": {Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: []string{"app"}, ServerVersion: "16.4"},
		"job-2": {Kind: engine.PostgreSQL, Method: engine.MethodLogical, Databases: many, ServerVersion: "16.4"},
		"job-3": {Kind: engine.MySQL, Method: engine.MethodLogical, Databases: []string{"shop"}, ServerVersion: "10.11.6-MariaDB-0+deb12u1",
			Binlog: &engine.BinlogPosition{File: "mariadb-bin.000003", Position: 328, GTID: "0-1-17"}},
	}
	key := bytes.Repeat([]byte{9}, artefact.KeySize)
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		res := results[id]
		opts := artefact.BackupOptions{Engine: res.Kind, Scope: "pg", JobID: id, Compression: true}
		if id == "job-3" {
			opts.Key = key
		}
		produce := func(ctx context.Context, w io.Writer, log io.Writer) (engine.Result, error) {
			_, err := io.WriteString(w, strings.Repeat(id, 1000))
			return res, err
		}
		if _, err := artefact.Backup(ctx, under, opts, produce); err != nil {
			t.Fatal(err)
		}
	}
	cards := objects(t, under, "pg/_cards/")
	if len(cards) != 2 {
		t.Fatalf("cards %v, want job-1's and job-3's (job-2's summary is too long)", cards)
	}
	got, err := artefact.List(ctx, st, artefact.ListOptions{Scope: "pg"})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Gets(); n != 1 {
		t.Fatalf("the listing read %d objects, want 1 (job-2's index entry)", n)
	}
	if len(got) != 3 {
		t.Fatalf("listed %d backups, want 3", len(got))
	}
	for _, s := range got {
		m, err := artefact.ReadManifest(ctx, under, s.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Complete || s.Engine != m.Engine.Kind || !slices.Equal(s.Databases, m.Engine.Databases) ||
			!s.StartedAt.Equal(m.StartedAt) || !s.FinishedAt.Equal(m.FinishedAt) || s.RawBytes != m.RawBytes ||
			s.StoredBytes != m.StoredBytes || s.Encryption != m.Encryption || s.KeyFingerprint != m.KeyFingerprint ||
			s.ServerVersion != m.Engine.ServerVersion || (s.Binlog == nil) != (m.Engine.Binlog == nil) ||
			(s.Binlog != nil && *s.Binlog != *m.Engine.Binlog) {
			t.Errorf("listed %+v, but its manifest says %+v", s, m)
		}
	}
	if err := artefact.Delete(ctx, root, "team/a/pg/job-1/"); err != nil {
		t.Fatal(err)
	}
	if left := objects(t, under, "pg/_cards/"); len(left) != 1 {
		t.Fatalf("after deleting job-1 the cards are %v, want job-3's", left)
	}
	got, err = artefact.List(ctx, st, artefact.ListOptions{Scope: "pg"})
	if err != nil || len(got) != 2 || got[0].JobID != "job-3" || got[1].JobID != "job-2" || st.Gets() != 2 {
		t.Fatalf("after deleting job-1: %+v, %v, %d reads", got, err, st.Gets())
	}
}
