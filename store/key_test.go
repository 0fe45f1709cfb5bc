package store_test

import (
	"strings"
	"testing"

	"github.com/dbbackup/dbbackup/store"
)

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true}, {"a/b.c", true}, {"a/.hidden", true}, {"a..b", true},
		{"", false}, {"/a", false}, {"a//b", false}, {"a/", false}, {"../a", false}, {"a/./b", false}, {"a/..", false},
	}
	for _, tt := range tests {
		if got := store.CheckKey(tt.key) == nil; got != tt.ok {
			t.Errorf("CheckKey(%q) ok = %v, want %v", tt.key, got, tt.ok)
		}
	}
}

func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a/b", "/x", "a//b", "..", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if store.CheckKey(key) != nil {
			return
		}
		if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
			t.Errorf("CheckKey(%q) accepted a key with an empty segment", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "." || seg == ".." {
				t.Errorf("CheckKey(%q) accepted a dot segment", key)
			}
		}
	})
}
