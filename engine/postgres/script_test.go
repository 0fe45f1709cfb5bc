package postgres

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// createScript is the start of what pg_restore 15.18 --create writes.
const createScript = `--
-- PostgreSQL database dump
--

\restrict K3y

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Name: two; Type: DATABASE; Schema: -; Owner: clerk
--

CREATE DATABASE two WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C';


ALTER DATABASE two OWNER TO clerk;

\unrestrict K3y
\connect two
\restrict K3y

SET statement_timeout = 0;
ALTER DATABASE two SET work_mem TO '8MB';

\unrestrict K3y
\connect two
\restrict K3y

CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$SELECT '
\connect elsewhere
'$$;
COPY public.t (v) FROM stdin;
\\connect x
BEGIN;
COMMIT;
\.

--
-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
--

BEGIN;

SELECT pg_catalog.lo_open('424242', 131072);
SELECT pg_catalog.lowrite(0, '\x616263');
SELECT pg_catalog.lo_close(0);

COMMIT;

\unrestrict K3y
`

func TestReadHeader(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(createScript))
	h, err := readHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "CREATE DATABASE two WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C';"; h.create != want {
		t.Errorf("create = %q, want %q", h.create, want)
	}
	if want := "ALTER DATABASE two OWNER TO clerk;\n"; h.statements != want {
		t.Errorf("statements = %q, want %q", h.statements, want)
	}
	if rest, _ := io.ReadAll(r); !strings.HasPrefix(string(rest), `\restrict K3y`) {
		t.Errorf("the rest starts with %.30q, want the \\restrict after the \\connect", rest)
	}

	for _, bad := range []string{"CREATE DATABASE x;\n", "SET a = 1;\n\\connect x\n", ""} {
		if _, err := readHeader(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readHeader(%q) succeeded", bad)
		}
	}
	boom := errors.New("boom")
	if _, err := readHeader(bufio.NewReader(io.MultiReader(strings.NewReader("SET a;\n"), iotest.ErrReader(boom)))); !errors.Is(err, boom) {
		t.Errorf("got %v, want the reader's error", err)
	}
}

func TestScriptFilter(t *testing.T) {
	noBlobTx := strings.Replace(strings.Replace(createScript, "\nBEGIN;\n\nSELECT pg_catalog.lo_open", "\n\nSELECT pg_catalog.lo_open", 1),
		"lo_close(0);\n\nCOMMIT;\n", "lo_close(0);\n\n", 1)
	tests := []struct {
		name     string
		create   bool
		in, want string
	}{
		{"with key", true, createScript, strings.Replace(noBlobTx, "\\unrestrict K3y\n\\connect two\n", "\\unrestrict K3y\n", 2)},
		{"without --create", false, createScript, noBlobTx},
		{"without key", true, "ALTER DATABASE two OWNER TO x;\n\n\\connect two\n\nCREATE TABLE t ();\n", "ALTER DATABASE two OWNER TO x;\n\n\nCREATE TABLE t ();\n"},
		{"no connect", true, "SELECT 1;\n\\.\nlast", "SELECT 1;\n\\.\nlast"},
	}
	if noBlobTx == createScript || strings.Count(noBlobTx, "BEGIN;") != 1 || strings.Count(noBlobTx, "COMMIT;") != 1 {
		t.Fatalf("the test's own expectation is wrong:\n%s", noBlobTx)
	}
	for _, tt := range tests {
		for _, size := range []int{64, 4096} {
			f := newScriptFilter(bufio.NewReaderSize(strings.NewReader(tt.in), size), tt.create, unknownSettings(16))
			got, err := io.ReadAll(iotest.OneByteReader(f))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("%s, buffer %d: got\n%s\nwant\n%s", tt.name, size, got, tt.want)
			}
		}
	}
	if !strings.Contains(tests[0].want, "\n\\connect elsewhere\n") || strings.Contains(tests[0].want, "\n\\connect two\n") {
		t.Fatalf("the test's own expectation is wrong")
	}
	boom := errors.New("boom")
	if _, err := io.ReadAll(newScriptFilter(bufio.NewReader(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(boom))), true, nil)); !errors.Is(err, boom) {
		t.Errorf("got %v, want the reader's error", err)
	}
}

func FuzzScriptFilter(f *testing.F) {
	f.Add(createScript)
	f.Add("\\connect a\n")
	f.Add(settingsScript(newerPrelude))
	f.Fuzz(func(t *testing.T, in string) {
		got, err := io.ReadAll(newScriptFilter(bufio.NewReaderSize(strings.NewReader(in), 64), true, unknownSettings(16)))
		if err != nil {
			t.Fatal(err)
		}
		// It only ever drops whole \connect, BEGIN and COMMIT lines, and
		// the settings it was told of.
		if !strings.Contains(in, `\connect `) && !strings.Contains(in, dataHeading) && !strings.Contains(in, "SET transaction_timeout") && string(got) != in {
			t.Fatalf("changed a script without \\connect: %q -> %q", in, got)
		}
		if len(got) > len(in) {
			t.Fatalf("grew: %q -> %q", in, got)
		}
	})
}

// largeObjectGroups is how pg_restore 17 and later writes the data of
// large objects: a group of up to 1000, named by its range of OIDs, each
// in its own BEGIN and COMMIT; then a table whose name and rows read like
// them.
const largeObjectGroups = `--
-- Data for Name: 16384..16385; Type: BLOBS; Schema: -; Owner: postgres
--

BEGIN;

SELECT pg_catalog.lo_open('16384', 131072);
SELECT pg_catalog.lo_close(0);

COMMIT;

--
-- Data for Name: 16386; Type: BLOBS; Schema: -; Owner: postgres
--

BEGIN;

SELECT pg_catalog.lo_open('16386', 131072);
SELECT pg_catalog.lo_close(0);

COMMIT;

--
-- Data for Name: 12..13; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public."12..13" (v) FROM stdin;
BEGIN;
COMMIT;
\.
`

// TestScriptFilterLargeObjectGroups: the BEGIN and COMMIT around each
// group of large objects are left out (else the first COMMIT would
// commit the restore halfway), rows that read like them are not.
func TestScriptFilterLargeObjectGroups(t *testing.T) {
	want := strings.Replace(largeObjectGroups, "--\n\nBEGIN;\n", "--\n\n", 2)
	want = strings.Replace(want, "lo_close(0);\n\nCOMMIT;\n", "lo_close(0);\n\n", 2)
	if strings.Count(want, "BEGIN;") != 1 || strings.Count(want, "COMMIT;") != 1 {
		t.Fatalf("the test's own expectation is wrong:\n%s", want)
	}
	for _, create := range []bool{false, true} {
		f := newScriptFilter(bufio.NewReaderSize(strings.NewReader(largeObjectGroups), 64), create, nil)
		got, err := io.ReadAll(iotest.OneByteReader(f))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("--create %v: got\n%s\nwant\n%s", create, got, want)
		}
	}
}
