package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type section struct {
	kind       byte
	name, body string
}

func frame(t testing.TB, secs []section, end bool) []byte {
	var b bytes.Buffer
	b.WriteString(clusterMagic)
	for _, s := range secs {
		w, err := beginSection(&b, s.kind, s.name)
		if err != nil {
			t.Fatal(err)
		}
		// Several writes, so a section spans several chunks.
		for _, part := range strings.SplitAfter(s.body, "\n") {
			if _, err := io.WriteString(w, part); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.endSection(); err != nil {
			t.Fatal(err)
		}
	}
	if end {
		_ = writeEnd(&b)
	}
	return b.Bytes()
}

func unframe(data []byte) ([]section, error) {
	c, err := newClusterReader(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	var got []section
	for {
		kind, name, r, err := c.next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		body, err := io.ReadAll(r)
		if err != nil {
			return got, err
		}
		got = append(got, section{kind, name, string(body)})
	}
}

func TestClusterRoundTrip(t *testing.T) {
	want := []section{
		{sectionGlobals, "", "CREATE ROLE app;\nALTER ROLE app WITH LOGIN;\n"},
		{sectionDatabase, "app", "PGDMP\x00\x01binary\n\x00\xff"},
		{sectionDatabase, "ünïcode db", ""},
	}
	got, err := unframe(frame(t, want, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sections, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("section %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestClusterTruncated(t *testing.T) {
	full := frame(t, []section{{sectionGlobals, "", "x\n"}, {sectionDatabase, "a", "abc\ndef\n"}}, true)
	// Every cut short of the whole stream must be an error, never a
	// clean end: a truncated backup must not restore as a complete one.
	for n := 0; n < len(full); n++ {
		_, err := unframe(full[:n])
		if !errors.Is(err, errCorrupt) {
			t.Errorf("cut at %d of %d: got %v, want errCorrupt", n, len(full), err)
		}
	}
	if _, err := unframe(append(full, 'x')); !errors.Is(err, errCorrupt) {
		t.Errorf("trailing data: got %v, want errCorrupt", err)
	}
}

func TestClusterBadChunk(t *testing.T) {
	data := []byte(clusterMagic + "D\x00\x01a\xff\xff\xff\xff")
	if _, err := unframe(data); !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "chunk of") {
		t.Errorf("got %v, want a chunk size error", err)
	}
}

func FuzzClusterReader(f *testing.F) {
	f.Add(frame(f, []section{{sectionGlobals, "", "x"}, {sectionDatabase, "db", "y\nz"}}, true))
	f.Add([]byte(clusterMagic + "E"))
	f.Add([]byte(clusterMagic + "D\x00\x01a\x00\x00\x00\x02hi\x00\x00\x00\x00E"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := unframe(data)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		// What parses must frame back to the same bytes.
		again := frame(t, got, true)
		back, err := unframe(again)
		if err != nil || len(back) != len(got) {
			t.Fatalf("reframe: %v", err)
		}
		for i := range got {
			if back[i] != got[i] {
				t.Fatalf("section %d changed on reframe", i)
			}
		}
	})
}
