package testenv

import (
	"os"
	"strings"
	"testing"
)

func TestProgramRunsCleanupsAndStopsOnFatal(t *testing.T) {
	var order []string
	var dir string
	err := Run(func(p *Program) error {
		dir = p.TempDir()
		p.Cleanup(func() { order = append(order, "first") })
		p.Cleanup(func() { order = append(order, "second") })
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("temp dir: %v", err)
		}
		p.Fatalf("stop %d", 7)
		return nil
	})
	if err == nil || err.Error() != "stop 7" {
		t.Fatalf("err = %v, want stop 7", err)
	}
	if strings.Join(order, ",") != "second,first" {
		t.Fatalf("cleanups ran %v, want second,first", order)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("temp dir %s left behind: %v", dir, err)
	}
}
