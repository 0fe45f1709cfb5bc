package postgres

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dbbackup/dbbackup/engine"
)

// newerPrelude is the session prelude pg_restore 18 writes at the start
// of its script and after each of its \connect lines; olderPrelude is
// the same without the setting servers before 17 do not know.
const (
	newerPrelude = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
`
	olderPrelude = `SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;
`
)

// settingsScript is what pg_restore 18 --create writes after the header
// readHeader reads (and, from "--" on, without --create), with prelude
// as its session preludes: data rows, a function body and a \connect
// inside it that read like the prelude's lines, none of which a filter
// may touch.
func settingsScript(prelude string) string {
	return `\restrict K3y

` + prelude + `
--
-- Name: zz; Type: DATABASE PROPERTIES; Schema: -; Owner: postgres
--

ALTER DATABASE zz SET work_mem TO '8MB';


\unrestrict K3y
\connect zz
\restrict K3y

` + prelude + `
SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: f(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $$SELECT '
SET transaction_timeout = 0;
\connect elsewhere
SET transaction_timeout = 0;
'$$;

CREATE TABLE public.t (
    v text
);

COPY public.t (v) FROM stdin;
SET transaction_timeout = 0;
SET transaction_timeout = 0;	x
\.


--
-- PostgreSQL database dump complete
--

\unrestrict K3y
`
}

// TestScriptFilterSettings: the setting a server does not know is left
// out of each session prelude of the script, the one at its start and
// those after pg_restore's own \connect lines, and nowhere else (rows,
// a function's body, after a \connect that is not pg_restore's); a
// server that knows it, or one of a major not known, gets it.
func TestScriptFilterSettings(t *testing.T) {
	in := settingsScript(newerPrelude)
	older := strings.Replace(settingsScript(olderPrelude), "\\unrestrict K3y\n\\connect zz\n", "\\unrestrict K3y\n", 1)
	newer := strings.Replace(in, "\\unrestrict K3y\n\\connect zz\n", "\\unrestrict K3y\n", 1)
	tests := []struct {
		name    string
		server  int
		create  bool
		in      string
		want    string
		dropped int // lines left out
	}{
		{"16, --create", 16, true, in, older, 1 + 2},
		{"14, --create", 14, true, in, older, 1 + 2},
		{"17, --create", 17, true, in, newer, 1},
		{"18, --create", 18, true, in, newer, 1},
		{"not known, --create", 0, true, in, newer, 1},
		// Without --create pg_restore writes one prelude, at the start.
		{"16, one database", 16, false, in, strings.Replace(in, newerPrelude, olderPrelude, 1), 1},
		{"17, one database", 17, false, in, in, 0},
	}
	for _, tt := range tests {
		for _, size := range []int{64, 4096} {
			f := newScriptFilter(bufio.NewReaderSize(strings.NewReader(tt.in), size), tt.create, unknownSettings(tt.server))
			got, err := io.ReadAll(iotest.OneByteReader(f))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("%s, buffer %d: got\n%s\nwant\n%s", tt.name, size, got, tt.want)
			}
			if n := strings.Count(tt.in, "\n") - strings.Count(string(got), "\n"); n != tt.dropped {
				t.Errorf("%s, buffer %d: %d lines left out, want %d", tt.name, size, n, tt.dropped)
			}
		}
	}
	// The rows and the function's lines that read like the setting are
	// still there for 16.
	if n := strings.Count(older, "\nSET transaction_timeout = 0;"); n != 4 {
		t.Fatalf("the test's own expectation is wrong: %d lines like the setting left, want the 4 outside the preludes", n)
	}
}

// TestUnknownSettings: transaction_timeout is unknown before 17 only,
// and nothing is unknown to a server of a major not known.
func TestUnknownSettings(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"14.23", []string{"transaction_timeout"}},
		{"15.18 (Debian 15.18-0+deb12u1)", []string{"transaction_timeout"}},
		{"16.14", []string{"transaction_timeout"}},
		{"17.0", nil},
		{"18.1 (Ubuntu 18.1-1.pgdg24.04+1)", nil},
		{"", nil},
		{"devel", nil},
	} {
		if got := unknownSettings(serverMajor(tc.version)); !slices.Equal(got, tc.want) {
			t.Errorf("server %q: unknown %q, want %q", tc.version, got, tc.want)
		}
	}
}

// TestLeftOut: the settings left out follow the server alone; the log
// names them only when the tools write them (pg_restore 17 and later).
func TestLeftOut(t *testing.T) {
	for _, tc := range []struct {
		server, tools string
		want          []string
		log           string
	}{
		{"16.14", "pg_restore (PostgreSQL) 18.0", []string{"transaction_timeout"},
			"dbbackup: pg_restore 18 writes transaction_timeout, which PostgreSQL 16 does not know: left out of its script's session settings\n"},
		{"14.23", "pg_restore (PostgreSQL) 17.2 (Ubuntu 17.2-1.pgdg22.04+1)", []string{"transaction_timeout"},
			"dbbackup: pg_restore 17 writes transaction_timeout, which PostgreSQL 14 does not know: left out of its script's session settings\n"},
		{"14.23", "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", []string{"transaction_timeout"}, ""},
		{"17.2", "pg_restore (PostgreSQL) 18.0", nil, ""},
		{"", "pg_restore (PostgreSQL) 18.0", nil, ""},
	} {
		var log bytes.Buffer
		got := leftOut(&log, engine.Result{ServerVersion: tc.server, ToolVersion: tc.tools})
		if !slices.Equal(got, tc.want) || log.String() != tc.log {
			t.Errorf("server %q, tools %q: %q, log %q; want %q, log %q", tc.server, tc.tools, got, log.String(), tc.want, tc.log)
		}
	}
}
