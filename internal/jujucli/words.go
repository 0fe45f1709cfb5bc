// Package jujucli checks `juju ...` command lines against the argument
// rules of the Juju 3.x commands the project's docs and demo print
// (deploy, integrate, run, config, add-secret, grant-secret, status,
// show-unit, debug-log, resolve), so that a line an admin copies is one
// Juju accepts. It knows each command's flags, which of them take a value,
// and what its positional arguments must look like; it does not talk to
// Juju.
package jujucli

import (
	"errors"
	"strings"
)

// Split splits a command line into words as a POSIX shell does for the
// quoting the docs use: single and double quotes, backslash escapes, and
// a '#' that starts a word begins a comment.
func Split(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\$`+"`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\':
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
