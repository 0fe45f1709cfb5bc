package mysql

import (
	"bytes"
	"errors"
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

// With insert set, the SQL for a database follows the comment line that
// first names it, before the rest of the dump, and a read error of the
// dump comes only after everything read before it.
func TestDatabaseWatcherInserts(t *testing.T) {
	dump := "-- dump\n-- Current Database: `a`\n--\nCREATE DATABASE a;\n-- Current Database: `mysql`\nUSE mysql;\n" +
		"-- Current Database: `b`\nUSE b;\n-- Current Database: `a`\nUSE a;\n"
	want := "-- dump\n-- Current Database: `a`\nDROP a;\n--\nCREATE DATABASE a;\n-- Current Database: `mysql`\nUSE mysql;\n" +
		"-- Current Database: `b`\nDROP b;\nUSE b;\n-- Current Database: `a`\nUSE a;\n"
	insert := func(name string) string {
		if name == "mysql" {
			return ""
		}
		return "DROP " + name + ";\n"
	}
	for _, chunk := range []int{1, 3, 30, len(dump)} {
		failure := errors.New("checksum mismatch")
		d := &databaseWatcher{r: io.MultiReader(&chunkReader{data: []byte(dump), n: chunk}, iotest.ErrReader(failure)), insert: insert}
		got, err := io.ReadAll(d)
		if string(got) != want || !errors.Is(err, failure) {
			t.Errorf("reads of %d: got %q, %v; want %q, the read error", chunk, got, err, want)
		}
		if strings.Join(d.found, "|") != "a|mysql|b" {
			t.Errorf("reads of %d: found %q", chunk, d.found)
		}
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
	f.Add([]byte("-- Current Database: `" + strings.Repeat("y", 1000) + "`\n-- Current Database: `z`\n"))
	f.Add([]byte("-- Current Database: `skip`\n-- Current Database: `a`\n-- Current Database: `a`\nUSE a;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := referenceWatch(data)
		for _, chunk := range []int{1, 7, 1 + len(data)/3, len(data) + 1} {
			d := &databaseWatcher{r: &chunkReader{data: data, n: chunk}}
			got, err := io.ReadAll(d)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the watcher changed the stream: %v", err)
			}
			if max := bytes.Count(data, []byte(currentDatabase)); len(d.found) > max {
				t.Fatalf("found %d databases in a stream with %d such comments", len(d.found), max)
			}
			if strings.Join(d.found, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("reads of %d: found %q, the byte-by-byte reference %q", chunk, d.found, want)
			}
			d = &databaseWatcher{r: &chunkReader{data: data, n: chunk}, insert: fuzzInsert}
			got, err = io.ReadAll(d)
			if want := referenceInsert(data); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("reads of %d with insert: got %q (%v), the byte-by-byte reference %q", chunk, got, err, want)
			}
		}
	})
}

// chunkReader reads data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}

// referenceWatch is the watcher's rule applied a byte at a time (the first
// implementation): a line counts when it is currentDatabase, a name and a
// backquote, at most 1024 bytes.
func referenceWatch(data []byte) []string {
	d := &databaseWatcher{}
	for _, b := range data {
		if b == '\n' {
			d.endLine()
			continue
		}
		if d.skipping {
			continue
		}
		d.line = append(d.line, b)
		if len(d.line) > 1024 || !prefixCompatible(d.line) {
			d.skipping, d.line = true, d.line[:0]
		}
	}
	return d.found
}

// fuzzInsert inserts a line for each database but those named "skip".
func fuzzInsert(name string) string {
	if name == "skip" {
		return ""
	}
	return "/* " + name + " */\n"
}

// referenceInsert is the stream a watcher with fuzzInsert hands out,
// built a byte at a time.
func referenceInsert(data []byte) []byte {
	d := &databaseWatcher{}
	var out []byte
	for _, b := range data {
		out = append(out, b)
		if b == '\n' {
			if name, ok := d.endLine(); ok {
				out = append(out, fuzzInsert(name)...)
			}
			continue
		}
		if d.skipping {
			continue
		}
		d.line = append(d.line, b)
		if len(d.line) > 1024 || !prefixCompatible(d.line) {
			d.skipping, d.line = true, d.line[:0]
		}
	}
	return out
}

// BenchmarkDatabaseWatcher passes 64 MiB of a dump (1 MiB INSERT lines)
// through the watcher, against a plain copy.
func BenchmarkDatabaseWatcher(b *testing.B) {
	line := "INSERT INTO `t` VALUES " + strings.Repeat("(1,'0123456789abcdef0123456789abcdef'),", 1<<20/40) + ";\n"
	dump := []byte("-- Current Database: `shop`\n" + strings.Repeat(line, 64))
	b.SetBytes(int64(len(dump)))
	for b.Loop() {
		d := &databaseWatcher{r: bytes.NewReader(dump)}
		if _, err := io.Copy(io.Discard, d); err != nil || len(d.found) != 1 {
			b.Fatal(err, d.found)
		}
	}
}
