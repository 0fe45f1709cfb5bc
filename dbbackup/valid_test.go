package dbbackup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	cases := []string{
		``, ` `, `0`, `-0`, `01`, `-`, `1.`, `1.5e`, `1.5e+3`, `1E-2`, `.5`, `"a"`, `"\u00e9"`, `"\u00g9"`,
		`"\x"`, "\"\x01\"", `"\/"`, `tru`, `true `, ` null`, `nul`, `[]`, `[1,]`, `[,1]`, `{}`, `{"a":1,}`,
		`{"a" 1}`, `{1:2}`, `[1 2]`, `{"a":[{"b":null}]}`, `[1]x`, `"unterminated`, "\"\xff\xfe\"",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u0041",true,false,null]}`, `[`, `"\ud800"`, `-01`, "[\t]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON = %v, json.Valid = %v for %q", got, want, b)
		}
	})
}
