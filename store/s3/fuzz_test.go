package s3

import (
	"strings"
	"testing"
)

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"", "http://127.0.0.1:9000", "https://h/", "h:1", "ftp://x", "https://u:p@h", "http://[::1]:9000", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, endpoint string) {
		host, secure, display, err := parseEndpoint(endpoint)
		if err != nil {
			if strings.Contains(endpoint, "@") && strings.Contains(err.Error(), endpoint) {
				t.Errorf("error %q repeats an endpoint that may hold user information", err)
			}
			return
		}
		if host == "" || strings.Contains(host, "@") || strings.Contains(host, "/") {
			t.Errorf("parseEndpoint(%q) host = %q", endpoint, host)
		}
		if want := map[bool]string{true: "https://", false: "http://"}[secure] + host; display != want {
			t.Errorf("parseEndpoint(%q) display = %q, want %q", endpoint, display, want)
		}
	})
}

func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{"a=b", "x-amz-meta-k=v=w", "=v", "noeq", "a b=c", "k=v\r\nX: y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, attr string) {
		m, err := parseAttributes([]string{attr})
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || strings.ContainsAny(k, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
				t.Errorf("parseAttributes(%q) = %q: %q, not a safe header", attr, k, v)
			}
		}
	})
}

func FuzzCAPool(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	f.Add("aGVsbG8=")
	f.Fuzz(func(t *testing.T, entry string) {
		_, _ = caPool([]string{entry}) // must not panic
	})
}
