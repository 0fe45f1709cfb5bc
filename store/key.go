package store

import (
	"errors"
	"fmt"
	"strings"
)

// CheckKey reports whether key is a valid relative object key: not empty,
// no leading "/", no empty, "." or ".." segment. Backends call it before
// touching the server so that every backend refuses the same keys.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("key %q starts with /", key)
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("key %q has an empty segment or ends with /", key)
		case ".", "..":
			return fmt.Errorf("key %q has a %q segment", key, seg)
		}
	}
	return nil
}
