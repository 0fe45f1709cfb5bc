package testenv

import "testing"

func TestNormalizeDump(t *testing.T) {
	a := "--\n-- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\\restrict AAA\n" +
		"COPY public.t (i) FROM stdin;\n2\n1\n\\.\nSELECT 1;\n\\unrestrict AAA\n"
	b := "--\n-- Dumped from database version 15.19\n-- Dumped by pg_dump version 15.19\n\\restrict BBB\n" +
		"COPY public.t (i) FROM stdin;\n1\n2\n\\.\nSELECT 1;\n\\unrestrict BBB\n"
	if got, want := normalizeDump(a), normalizeDump(b); got != want {
		t.Errorf("dumps of the same content differ:\n%s\n---\n%s", got, want)
	}
	if want := "--\nCOPY public.t (i) FROM stdin;\n1\n2\n\\.\nSELECT 1;\n"; normalizeDump(a) != want {
		t.Errorf("got %q, want %q", normalizeDump(a), want)
	}
	// Rows are sorted within their block only, and a row differs.
	c := "COPY a (i) FROM stdin;\n2\n\\.\nCOPY b (i) FROM stdin;\n1\n\\.\n"
	d := "COPY a (i) FROM stdin;\n1\n\\.\nCOPY b (i) FROM stdin;\n2\n\\.\n"
	if normalizeDump(c) == normalizeDump(d) {
		t.Errorf("rows moved between tables compare equal")
	}
}
