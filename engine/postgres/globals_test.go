package postgres

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestOwnRoleFilter(t *testing.T) {
	in := `CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$old';
ALTER ROLE postgres SET work_mem TO '64MB';
CREATE ROLE "Odd ""one""";
ALTER ROLE "Odd ""one""" WITH LOGIN PASSWORD 'x';
ALTER ROLE postgres_app WITH LOGIN;
last line without newline`
	tests := []struct{ user, gone string }{
		{"postgres", "ALTER ROLE postgres WITH SUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$old';\n"},
		{`Odd "one"`, `ALTER ROLE "Odd ""one""" WITH LOGIN PASSWORD 'x';` + "\n"},
	}
	for _, tt := range tests {
		got, err := io.ReadAll(iotest.OneByteReader(ownRoleFilter(strings.NewReader(in), tt.user)))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Replace(in, tt.gone, "", 1); string(got) != want {
			t.Errorf("user %q: got\n%s\nwant\n%s", tt.user, got, want)
		}
	}
	boom := errors.New("boom")
	_, err := io.ReadAll(ownRoleFilter(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), "u"))
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want the reader's error passed on", err)
	}
}
