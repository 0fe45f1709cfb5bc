package requirer

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePerApp(t *testing.T) {
	tests := []struct {
		text    string
		want    PerApp
		wantErr string
	}{
		{text: "", want: PerApp{Apps: map[string]string{}}},
		{text: "  0 2 * * * ", want: PerApp{Default: "0 2 * * *", Apps: map[string]string{}}},
		{text: "postgresql=0 2 * * *; *=@daily", want: PerApp{Default: "@daily", Apps: map[string]string{"postgresql": "0 2 * * *"}}},
		{text: "pg-a1=7\nmysql-two = 3 ;", want: PerApp{Apps: map[string]string{"pg-a1": "7", "mysql-two": "3"}}},
		{text: "pg=1; pg=2", wantErr: `application "pg" is given twice`},
		{text: "*=1; *=2", wantErr: `application "*" is given twice`},
		{text: "pg=1; mysql", wantErr: `entry 2 "mysql" is not APP=VALUE`},
		{text: "=1", wantErr: "no application name"},
		{text: "pg=", wantErr: "no value"},
		{text: "Pg=1", wantErr: `"Pg" is not an application name`},
		{text: "pg-1x-b2=1", want: PerApp{Apps: map[string]string{"pg-1x-b2": "1"}}},
		{text: "pg-2=1", wantErr: "not an application name"},
		{text: "bad", wantErr: "option: bad value"},
		{text: "pg=bad", wantErr: "option: pg: bad value"},
	}
	check := func(v string) error {
		if v == "bad" {
			return errors.New("bad value")
		}
		return nil
	}
	for _, tt := range tests {
		got, err := ParsePerApp("option", tt.text, check)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePerApp(%q) error = %v, want containing %q", tt.text, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePerApp(%q): %v", tt.text, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePerApp(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestPerAppFor(t *testing.T) {
	p, err := ParsePerApp("x", "pg=1; *=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	for app, want := range map[string]string{"pg": "1", "mysql": "2"} {
		if got := p.For(app); got != want {
			t.Errorf("For(%q) = %q, want %q", app, got, want)
		}
	}
	q, _ := ParsePerApp("x", "pg=1", nil)
	if got := q.For("mysql"); got != "" {
		t.Errorf("For(mysql) without default = %q, want empty", got)
	}
	if got := p.Names(); !reflect.DeepEqual(got, []string{"pg"}) {
		t.Errorf("Names() = %v", got)
	}
}

func FuzzParsePerApp(f *testing.F) {
	for _, s := range []string{"", "0 2 * * *", "pg=1; *=2", "a=b\nc=d", "=", ";;", "pg==1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePerApp("x", text, CheckRetentionValue)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "x: ") {
				t.Fatalf("error %q does not name the option", err)
			}
			return
		}
		for _, app := range p.Names() {
			if !validAppName(app) {
				t.Fatalf("accepted application name %q", app)
			}
			if CheckRetentionValue(p.Apps[app]) != nil {
				t.Fatalf("accepted value %q", p.Apps[app])
			}
		}
	})
}
