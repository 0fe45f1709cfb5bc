package secret

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScrub(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{"one-letter password leaves words alone", "job-does-not-exist: x failed", []string{"x"}, "job-does-not-exist: *** failed"},
		{"one-letter password inside a URL", "cannot connect to postgres://user:p@host:5432/db", []string{"p"}, "cannot connect to postgres://user:***@host:5432/db"},
		{"password inside a URL", "dial mysql://root:s3cret@127.0.0.1/app", []string{"s3cret"}, "dial mysql://root:***@127.0.0.1/app"},
		{"part of a longer word is not the secret", "password=pass passes", []string{"pass"}, "password=*** passes"},
		{"digits are word characters", "id 1234 and 12345 and a1234", []string{"1234"}, "id *** and 12345 and a1234"},
		{"non-word edges match anywhere", "key=-x-y-z-tail", []string{"-x-"}, "key=***y-z-tail"},
		{"access and secret key", "AKIAEXAMPLE/2024/us-east-1 sig wJalr/K7MDENG", []string{"AKIAEXAMPLE", "wJalr/K7MDENG"}, "***/2024/us-east-1 sig ***"},
		{"quoted", `"secret-key":"abc"`, []string{"abc"}, `"secret-key":"***"`},
		{"at both ends", "abc abc", []string{"abc"}, "*** ***"},
		{"overlapping secrets are one mask", "token a-b-c end", []string{"a-b", "b-c"}, "token *** end"},
		{"empty and mask are ignored", "a *** b", []string{"", Mask}, "a *** b"},
		{"no secrets", "text", nil, "text"},
		{"unicode letters are word characters", "éa a", []string{"a"}, "éa ***"},
		{"repeated", "x,x;x", []string{"x"}, "***,***;***"},
		{"a long secret is masked inside a word", "userS3cretPassw0rdX and S3cretPassw0rd", []string{"S3cretPassw0rd"}, "user***X and ***"},
		{"seven characters still stand alone", "abcdefgh abcdefg", []string{"abcdefg"}, "abcdefgh ***"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Scrub(c.text, c.secrets); got != c.want {
				t.Errorf("Scrub(%q, %q) = %q, want %q", c.text, c.secrets, got, c.want)
			}
		})
	}
}

// FuzzScrub checks that Scrub never panics, changes nothing when the secret
// is absent, and leaves no occurrence of the secret that stands alone.
func FuzzScrub(f *testing.F) {
	f.Add("job-does-not-exist user:x@host", "x")
	f.Add("postgres://u:pa ss@h/db", "pa ss")
	f.Add("aaaa", "aa")
	f.Add("a-a-a", "a-a")
	f.Add("é1é", "1")
	f.Fuzz(func(t *testing.T, text, secret string) {
		got := Scrub(text, []string{secret})
		if secret == "" || secret == Mask || !strings.Contains(text, secret) {
			if got != text {
				t.Fatalf("Scrub(%q, %q) = %q, want the text unchanged", text, secret, got)
			}
			return
		}
		if !utf8.ValidString(text) || !utf8.ValidString(secret) || strings.Contains(secret, "*") {
			return
		}
		for from := 0; from < len(got); {
			i := strings.Index(got[from:], secret)
			if i < 0 {
				break
			}
			start := from + i
			if len(secret) >= alwaysMasked || StandsAlone(got, secret, start, start+len(secret)) {
				t.Fatalf("Scrub(%q, %q) = %q: the secret stands alone at %d", text, secret, got, start)
			}
			from = start + 1
		}
	})
}
