package backupagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/engine"
)

func osRelease(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "os-release")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInstaller(t *testing.T) {
	var ran [][]string
	record := func(_ context.Context, argv ...string) error { ran = append(ran, argv); return nil }
	in := Installer{Run: record, OSRelease: osRelease(t, "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n")}
	if err := in.Install(context.Background(), []string{"postgresql-client-16"}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"apt-get", "update", "-q"},
		{"apt-get", "install", "-y", "-q", "--no-install-recommends", "--no-upgrade", "postgresql-client-16"}}
	if !reflect.DeepEqual(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
	for _, tc := range []struct {
		name, osr string
		pkgs      []string
		want      string
	}{
		{"not debian", "ID=fedora\n", []string{"postgresql"}, "not a Debian or Ubuntu machine"},
		{"bad name", "ID=debian\n", []string{"mariadb-client; reboot"}, "not a package name"},
		{"option as name", "ID=debian\n", []string{"-oAPT::x=1"}, "not a package name"},
	} {
		ran = nil
		in := Installer{Run: record, OSRelease: osRelease(t, tc.osr)}
		err := in.Install(context.Background(), tc.pkgs)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(ran) > 0 {
			t.Errorf("%s: %v (ran %q), want an error with %q and nothing run", tc.name, err, ran, tc.want)
		}
	}
}

func TestToolsErrorPackages(t *testing.T) {
	f, root := fakeFinder(t)
	_, err := f.Find(context.Background(), engine.PostgreSQL, nil)
	var te *ToolsError
	if !errors.As(err, &te) || !reflect.DeepEqual(te.Packages, []string{"postgresql-client"}) {
		t.Errorf("nothing installed: %v, packages %v", err, te)
	}
	fakeTools(t, filepath.Join(root, "bin"), "TOOL (PostgreSQL) 14.2", pgTools...)
	_, err = f.Find(context.Background(), engine.PostgreSQL, serverSays("16.4"))
	if !errors.As(err, &te) || !reflect.DeepEqual(te.Packages, []string{"postgresql-client-16"}) {
		t.Errorf("too old: %v, packages %v", err, te)
	}
}

// TestWithToolsInstalling installs what is missing (a fake apt-get that
// puts the tools on the finder's PATH) and finds it; a failed install is
// named in the error beside what is missing.
func TestWithToolsInstalling(t *testing.T) {
	f, root := fakeFinder(t)
	osr := osRelease(t, "ID=debian\n")
	var installed []string
	apt := func(_ context.Context, argv ...string) error {
		if argv[1] == "install" {
			installed = argv[6:]
			fakeTools(t, filepath.Join(root, "usr/bin"), "TOOL  Ver 10.19 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)", "mariadb-dump", "mariadb")
		}
		return nil
	}
	db := Database{Engine: engine.MySQL, Host: "127.0.0.1", Port: 1, User: "u"}
	got, err := WithToolsInstalling(context.Background(), db, f, Installer{Run: apt, OSRelease: osr})
	if err != nil || got.BinDir != filepath.Join(root, "usr/bin") || !reflect.DeepEqual(installed, []string{"default-mysql-client"}) {
		t.Errorf("got %q, %v after installing %q", got.BinDir, err, installed)
	}
	f2, _ := fakeFinder(t)
	fail := func(context.Context, ...string) error { return errors.New("apt-get update: exit status 100") }
	_, err = WithToolsInstalling(context.Background(), db, f2, Installer{Run: fail, OSRelease: osr})
	if !errors.Is(err, ErrTools) || !strings.Contains(err.Error(), "cannot find mariadb-dump") || !strings.Contains(err.Error(), "exit status 100") {
		t.Errorf("failed install: %v", err)
	}
}
