package artefact

import (
	"errors"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
)

// TestManifestBinlogPosition: a MariaDB backup's binary log position
// survives the manifest's round trip, and every bad value is refused with
// its field named.
func TestManifestBinlogPosition(t *testing.T) {
	good := fuzzManifest()
	good.Scope, good.Engine.Kind, good.Engine.Format = "my", engine.MySQL, "mysql-sql-v1"
	good.Engine.Binlog = &engine.BinlogPosition{File: "mariadb-bin.000007", Position: 1234, GTID: "0-1-42,1-2-3"}
	b, err := good.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	if got := *m.Engine.Binlog; got != *good.Engine.Binlog {
		t.Errorf("binlog = %+v, want %+v", got, *good.Engine.Binlog)
	}
	if !strings.Contains(string(b), `"binlog": {`) {
		t.Errorf("manifest lacks the binlog object:\n%s", b)
	}
	for _, tc := range []struct {
		name string
		edit func(*Manifest)
		want string
	}{
		{"file", func(m *Manifest) { m.Engine.Binlog.File = "../x.000001" }, "engine.binlog: file"},
		{"file without number", func(m *Manifest) { m.Engine.Binlog.File = "mariadb-bin" }, "engine.binlog: file"},
		{"position", func(m *Manifest) { m.Engine.Binlog.Position = 3 }, "engine.binlog: position"},
		{"gtid", func(m *Manifest) { m.Engine.Binlog.GTID = "0-1-x" }, "engine.binlog: gtid"},
		{"postgresql", func(m *Manifest) { m.Engine.Kind = engine.PostgreSQL }, "engine.binlog: present in a postgresql backup"},
	} {
		bad := good
		p := *good.Engine.Binlog
		bad.Engine.Binlog = &p
		tc.edit(&bad)
		err := bad.Validate()
		if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
	without := good
	without.Engine.Binlog = nil
	if b, _ := without.Marshal(); strings.Contains(string(b), "binlog") {
		t.Errorf("a manifest without a position names one:\n%s", b)
	}
}
