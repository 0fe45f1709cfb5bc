package engine

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		want Conn
	}{
		{"postgres://backup@127.0.0.1:5432/app", PostgreSQL, Conn{Host: "127.0.0.1", Port: 5432, User: "backup", Database: "app"}},
		{"postgresql://u@db.example/", PostgreSQL, Conn{Host: "db.example", Port: 5432, User: "u"}},
		{"mysql://root@127.0.0.1:3307", MySQL, Conn{Host: "127.0.0.1", Port: 3307, User: "root"}},
		{"mariadb://root:s3cret@[::1]/shop", MySQL, Conn{Host: "::1", Port: 3306, User: "root", Password: "s3cret", Database: "shop"}},
		{"postgres://u@h/na%20me", PostgreSQL, Conn{Host: "h", Port: 5432, User: "u", Database: "na me"}},
	}
	for _, tt := range tests {
		kind, got, err := ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if kind != tt.kind || got != tt.want {
			t.Errorf("ParseURL(%q) = %s %+v, want %s %+v", tt.in, kind, got, tt.kind, tt.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const canary = "CANARY-pw-93f1"
	tests := []struct{ in, want string }{
		{"http://u@h/db", `scheme "http"`},
		{"postgres:///db", "no host"},
		{"postgres://u:" + canary + "@h:99999/db", "port"},
		{"postgres://u:" + canary + "@h/db?sslmode=disable", "query"},
		{"mysql://u:" + canary + "@h/a/b", "contains '/'"},
		{"postgres://u:" + canary + "@h:x/db", "malformed"},
		{"postgres://u:" + canary + "@h/%zz", "malformed"},
	}
	for _, tt := range tests {
		_, _, err := ParseURL(tt.in)
		if err == nil {
			t.Errorf("ParseURL(%q): no error, want one containing %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseURL(%q) = %v, want it to contain %q", tt.in, err, tt.want)
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("ParseURL(%q) error leaks the password: %v", tt.in, err)
		}
	}
}

func TestConnString(t *testing.T) {
	c := Conn{Host: "127.0.0.1", Port: 5432, User: "u", Password: "CANARY", Database: "app"}
	if got, want := c.String(), "//u@127.0.0.1:5432/app"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"postgres://u:p@127.0.0.1:5432/db", "mysql://root@[::1]", "mariadb://a@b:1/c", "postgres://:@:/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, c, err := ParseURL(s)
		if err != nil {
			if c.Password != "" && strings.Contains(err.Error(), c.Password) {
				t.Fatalf("error leaks password")
			}
			return
		}
		if kind != PostgreSQL && kind != MySQL {
			t.Fatalf("kind %q", kind)
		}
		if c.Host == "" || c.Port < 1 || c.Port > 65535 || strings.Contains(c.Database, "/") {
			t.Fatalf("accepted bad conn %+v", c)
		}
		// String must not depend on the password at all (a substring test
		// failed on a password "2" found in the port 5432).
		other := c
		other.Password = c.Password + "CANARY"
		if other.String() != c.String() || strings.Contains(other.String(), "CANARY") {
			t.Fatalf("String depends on the password: %q", other.String())
		}
	})
}
