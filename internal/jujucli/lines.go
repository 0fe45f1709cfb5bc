package jujucli

import (
	"bufio"
	"bytes"
	"strings"
)

// Line is a juju command line found in a Markdown document.
type Line struct {
	// Num is the line number where the command starts.
	Num int
	// Text is the command, continuation lines joined, without a prompt.
	Text string
	// Inline is true for a `juju ...` code span in prose, false for a
	// line of a fenced code block.
	Inline bool
}

// Lines returns the juju command lines of a Markdown document: each line
// of a fenced code block that starts with "juju " or "$ juju " (joined
// with its backslash continuations), and each code span in prose that
// starts with "juju ".
func Lines(doc []byte) []Line {
	var out []Line
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	fenced := false
	var cont *Line
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
			continue
		}
		if cont != nil {
			cont.Text += " " + strings.TrimSuffix(trimmed, `\`)
			if !strings.HasSuffix(trimmed, `\`) {
				out = append(out, *cont)
				cont = nil
			}
			continue
		}
		if fenced {
			cmd := strings.TrimPrefix(trimmed, "$ ")
			if !strings.HasPrefix(cmd, "juju ") {
				continue
			}
			l := Line{Num: n, Text: strings.TrimSuffix(cmd, `\`)}
			if strings.HasSuffix(cmd, `\`) {
				cont = &l
				continue
			}
			out = append(out, l)
			continue
		}
		for _, span := range spans(text) {
			if strings.HasPrefix(span, "juju ") {
				out = append(out, Line{Num: n, Text: span, Inline: true})
			}
		}
	}
	if cont != nil {
		out = append(out, *cont)
	}
	return out
}

// spans returns the `code spans` of one line of prose.
func spans(line string) []string {
	var out []string
	for {
		i := strings.IndexByte(line, '`')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(line[i+1:], '`')
		if j < 0 {
			return out
		}
		out = append(out, line[i+1:i+1+j])
		line = line[i+j+2:]
	}
}
