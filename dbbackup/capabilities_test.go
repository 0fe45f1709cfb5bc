package dbbackup

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	spec "github.com/dbbackup/dbbackup/interface/v0"
)

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		text    string
		want    string // String() of the result
		errPath string // "" when valid
	}{
		{"", "[]", ""},
		{"  ", "[]", ""},
		{"[]", "[]", ""},
		{`["credentials-secret"]`, `["credentials-secret"]`, ""},
		{` ["physical", "credentials-secret", "physical"] `, `["credentials-secret","physical"]`, ""},
		{`["some-future-thing2"]`, `["some-future-thing2"]`, ""},
		{`"credentials-secret"`, "", "capabilities"},
		{`{"credentials-secret": true}`, "", "capabilities"},
		{`["credentials-secret", 3]`, "", "capabilities[1]"},
		{`["Credentials-Secret"]`, "", "capabilities[0]"},
		{`["2fa"]`, "", "capabilities[0]"},
		{`[""]`, "", "capabilities[0]"},
		{`["a b"]`, "", "capabilities[0]"},
		{`["` + strings.Repeat("a", 65) + `"]`, "", "capabilities[0]"},
		{`[` + strings.Repeat(`"a",`, 32) + `"a"]`, "", "capabilities"},
		{`[` + strings.Repeat(`"a",`, 1000) + `"a"]`, "", "capabilities"},
	}
	for _, tt := range tests {
		got, err := ParseCapabilities(tt.text)
		if tt.errPath != "" {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 || ps[0].Path != tt.errPath {
				t.Errorf("ParseCapabilities(%.40q) = %v, %v; want a problem at %s", tt.text, got, err, tt.errPath)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseCapabilities(%.40q) = %s, %v; want %s", tt.text, got, err, tt.want)
		}
	}
}

func TestCapabilitiesHas(t *testing.T) {
	c, err := ParseCapabilities(`["credentials-secret"]`)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Has(CredentialsSecret) || c.Has(EncryptionSecret) || Capabilities(nil).Has(CredentialsSecret) {
		t.Errorf("Has: %v", c)
	}
	// What String writes, ParseCapabilities reads back.
	all := Capabilities{Physical, CredentialsSecret, PointInTime, EncryptionSecret}
	back, err := ParseCapabilities(all.String())
	if err != nil || back.String() != all.String() || len(back) != 4 {
		t.Errorf("round trip of %s = %s, %v", all, back, err)
	}
}

func FuzzParseCapabilities(f *testing.F) {
	f.Add(`["credentials-secret","physical"]`)
	f.Add(`[1, "x"]`)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCapabilities(text)
		if err != nil {
			return
		}
		if len(c) > maxCapabilities {
			t.Fatalf("%d capabilities", len(c))
		}
		back, err := ParseCapabilities(c.String())
		if err != nil || back.String() != c.String() {
			t.Fatalf("round trip of %s: %s, %v", c, back, err)
		}
	})
}

// The schema's $defs/application-databag and ParseCapabilities give the
// same verdict on the capabilities value.
func TestCapabilitiesSchemaAgrees(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2019)
	c.AssertContent()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(spec.Provider))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(spec.ProviderID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(spec.ProviderID + "#/$defs/application-databag")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"", " ", "[]", `["credentials-secret"]`, `["credentials-secret","physical","x-1"]`,
		`"credentials-secret"`, `["credentials-secret", 3]`, `["Credentials-Secret"]`, `["2fa"]`, `[""]`, `["a b"]`,
		`["` + strings.Repeat("a", 64) + `"]`, `["` + strings.Repeat("a", 65) + `"]`,
		`[` + strings.Repeat(`"a",`, 31) + `"a"]`, `[` + strings.Repeat(`"a",`, 32) + `"a"]`, `{`} {
		_, perr := ParseCapabilities(text)
		serr := sch.Validate(map[string]any{CapabilitiesKey: text})
		if (perr == nil) != (serr == nil) {
			t.Errorf("%.50q: ParseCapabilities says %v, the schema %v", text, perr, serr)
		}
	}
}
