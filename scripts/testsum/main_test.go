package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:5: minio not built\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: chatty log\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: got 1, want 2\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"--- FAIL: TestC (0.00s)\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\n"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}`,
		`# p [p.test]`,
		`./x.go:1:1: syntax error`,
		`{"ImportPath":"q [q.test]","Action":"build-output","Output":"q/a.go:3:23: cannot use \"x\"\n"}`,
		`{"Action":"build-fail","ImportPath":"q [q.test]"}`,
		`{"Action":"output","Package":"r","Test":"TestHang","Output":"    r_test.go:7: waiting\n"}`,
		`{"Action":"output","Package":"r","Output":"panic: test timed out after 1s\n"}`,
		`{"Action":"fail","Package":"r"}`,
	}, "\n")
	var out bytes.Buffer
	skips, n, err := summarize(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if n != (tally{passed: 1, failed: 1}) {
		t.Errorf("tally = %+v, want 1 passed (TestB) and 1 failed (TestC)", n)
	}
	if len(skips) != 1 || skips[0].name != "p.TestA" || skips[0].reason != "a_test.go:5: minio not built" {
		t.Errorf("skips = %+v", skips)
	}
	got := out.String()
	for _, want := range []string{"c_test.go:3: got 1, want 2", "--- FAIL: TestC", "FAIL\tp\t0.01s", "./x.go:1:1: syntax error",
		`q/a.go:3:23: cannot use "x"`, "panic: test timed out", "r_test.go:7: waiting"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{"chatty log", "minio not built", "=== RUN"} {
		if strings.Contains(got, not) {
			t.Errorf("output has %q:\n%s", not, got)
		}
	}
}
