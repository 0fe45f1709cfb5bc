package dbbackup

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseJobs checks that no input panics the parser, that problems never
// leak a credential, and that what parses cleanly writes back to text that
// parses to the same jobs.
func FuzzParseJobs(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b), false)
			f.Add(string(b), true)
		}
	}
	f.Add("["+goodJob+"]", false)
	f.Add("["+goodReport+"]", true)
	f.Add(`[{"storage-config":{"tls-ca-chain":"[1]","attributes":"a=b;c","s3-api-version":"4"}}]`, false)
	f.Fuzz(func(t *testing.T, text string, provider bool) {
		side := Requirer
		if provider {
			side = Provider
		}
		l := ParseJobs(text, side)
		_ = l.AllProblems().Error()
		if len(l.AllProblems()) > 0 {
			return
		}
		out, err := MarshalJobs(l.Jobs(), side)
		if err != nil {
			t.Fatalf("valid jobs do not write: %v", err)
		}
		again := ParseJobs(out, side)
		if ps := again.AllProblems(); len(ps) > 0 {
			t.Fatalf("written jobs do not parse: %v\n%s", ps, out)
		}
		out2, err := MarshalJobs(again.Jobs(), side)
		if err != nil || out2 != out {
			t.Fatalf("second write differs (err %v):\n%s\n%s", err, out, out2)
		}
	})
}
