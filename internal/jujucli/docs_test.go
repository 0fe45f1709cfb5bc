package jujucli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CheckLine checks a Line: a code span in prose that is only `juju
// <subcommand>` names the command and needs only a known subcommand.
func checkLine(l Line) error {
	if words, err := Split(l.Text); err == nil && l.Inline && len(words) == 2 && Known(words[1]) {
		return nil
	}
	return Check(l.Text)
}

// TestDocsCommands checks every juju command line of docs/*.md and
// README.md with the rules of its Juju 3.x command.
func TestDocsCommands(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	files = append(files, "../../README.md")
	total := 0
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range Lines(doc) {
			total++
			if err := checkLine(l); err != nil {
				t.Errorf("%s:%d: %s\n\t%v", strings.TrimPrefix(f, "../../"), l.Num, l.Text, err)
			}
		}
	}
	if total < 20 {
		t.Errorf("only %d juju lines found in the docs; the extraction lost some", total)
	}
}
