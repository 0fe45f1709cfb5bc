package mysql

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDatabaseWatcher(t *testing.T) {
	dump := "-- MariaDB dump\n--\n-- Current Database: `shop`\n--\nCREATE TABLE x;\n" +
		strings.Repeat("INSERT INTO x VALUES ('-- Current Database: `fake`');\n", 3) +
		"-- Current Database: `we``ird db`\n-- Current Database: `shop`\n-- Current Database: `" + strings.Repeat("x", 2000) + "`\n"
	d := &databaseWatcher{r: iotest.OneByteReader(strings.NewReader(dump))}
	got, err := io.ReadAll(d)
	if err != nil || string(got) != dump {
		t.Fatalf("the watcher changed the stream: %v", err)
	}
	want := []string{"shop", "we`ird db"}
	if strings.Join(d.found, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", d.found, want)
	}
}

func TestOptionFileQuoting(t *testing.T) {
	got := quoteOption("p\"a\\ss w#rd;\n")
	if want := `"p\"a\\ss w#rd;\n"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func FuzzDatabaseWatcher(f *testing.F) {
	f.Add([]byte("-- Current Database: `a`\nINSERT;\n-- Current Database: `b``c`\n"))
	f.Add([]byte("-- Current Database: `"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := &databaseWatcher{r: iotest.HalfReader(bytes.NewReader(data))}
		got, err := io.ReadAll(d)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("the watcher changed the stream: %v", err)
		}
		if max := bytes.Count(data, []byte(currentDatabase)); len(d.found) > max {
			t.Fatalf("found %d databases in a stream with %d such comments", len(d.found), max)
		}
	})
}
