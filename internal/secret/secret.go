// Package secret holds the one last guard that keeps credentials out of
// what leaves the process: Scrub masks them in text (a status, a databag
// message, a tool's log, the stored backup log) and Guard in an error,
// keeping the error's chain so that errors.Is and errors.As still work.
// The store's errors, the runner, the command line and the manager go
// through them. Code keeps secrets out of its strings in the first place
// (dbbackup.Credentials never prints itself); the guard catches what
// slipped through.
package secret

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask replaces a secret.
const Mask = "***"

// alwaysMasked is the length from which a secret is masked wherever it
// stands: a secret that long inside a longer word is not a coincidence
// worth keeping, and leaving it would leak it.
const alwaysMasked = 8

// Scrub returns text with every occurrence of a secret replaced by Mask,
// where the occurrence stands on its own: an occurrence whose first (last)
// character is a letter or digit is masked only when the character before
// (after) it is not a letter or digit. So a one-letter password "x" is
// masked in "user:x@host" but "job-does-not-exist" is left alone, and a
// password never garbles the words around it; a secret of 8 characters or
// more is masked wherever it appears. Occurrences that overlap or
// touch are masked as one. Empty secrets and Mask itself are ignored.
//
// Scrub is the last guard before text leaves the process (a status, a
// databag message, an error on standard error): code keeps secrets out of
// its strings in the first place.
func Scrub(text string, secrets []string) string {
	var masked []bool
	for _, s := range secrets {
		if s == "" || s == Mask {
			continue
		}
		for from := 0; from < len(text); {
			i := strings.Index(text[from:], s)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(s)
			if len(s) >= alwaysMasked || StandsAlone(text, s, start, end) {
				if masked == nil {
					masked = make([]bool, len(text))
				}
				for j := start; j < end; j++ {
					masked[j] = true
				}
			}
			_, size := utf8.DecodeRuneInString(text[start:])
			from = start + size
		}
	}
	if masked == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); i++ {
		if !masked[i] {
			b.WriteByte(text[i])
			continue
		}
		b.WriteString(Mask)
		for i+1 < len(text) && masked[i+1] {
			i++
		}
	}
	return b.String()
}

// StandsAlone reports whether the occurrence text[start:end] of secret s
// does not continue a word: a letter or digit at its edge does not touch a
// letter or digit outside it.
func StandsAlone(text, s string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(s)
	if isWordRune(first) && start > 0 {
		if before, _ := utf8.DecodeLastRuneInString(text[:start]); isWordRune(before) {
			return false
		}
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if isWordRune(last) && end < len(text) {
		if after, _ := utf8.DecodeRuneInString(text[end:]); isWordRune(after) {
			return false
		}
	}
	return true
}

// isWordRune reports whether r is a letter or a digit.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}
