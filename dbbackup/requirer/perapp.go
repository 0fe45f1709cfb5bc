package requirer

import (
	"fmt"
	"sort"
	"strings"
)

// PerApp is a configuration value given for every related application or
// per application. Its text is either one value for all, for example
// "0 2 * * *", or entries "APP=VALUE" separated by ";" or new lines, where
// the application "*" gives the value of every application not named, for
// example "postgresql=0 2 * * *; *=30 3 * * 0". Spaces around names and
// values are dropped; an empty text sets nothing.
type PerApp struct {
	// Default is the value of an application not named; "" when none.
	Default string
	// Apps holds the values of the named applications.
	Apps map[string]string
}

// For returns app's value: its own, else the default; "" when neither.
func (p PerApp) For(app string) string {
	if v, ok := p.Apps[app]; ok {
		return v
	}
	return p.Default
}

// ParsePerApp reads a PerApp configuration value. The error names field
// (the configuration option) and the faulty entry. check, when not nil,
// validates each value; its error is wrapped with the entry.
func ParsePerApp(field, text string, check func(string) error) (PerApp, error) {
	p := PerApp{Apps: map[string]string{}}
	text = strings.TrimSpace(text)
	if text == "" {
		return p, nil
	}
	if !strings.Contains(text, "=") {
		if err := checkValue(field, "", text, check); err != nil {
			return PerApp{}, err
		}
		p.Default = text
		return p, nil
	}
	entries := strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' })
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		name, value, ok := strings.Cut(e, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !ok:
			return PerApp{}, fmt.Errorf("%s: entry %d %q is not APP=VALUE (separate entries with \";\")", field, i+1, clipID(e))
		case name == "":
			return PerApp{}, fmt.Errorf("%s: entry %d %q has no application name before \"=\"", field, i+1, clipID(e))
		case name != "*" && !validAppName(name):
			return PerApp{}, fmt.Errorf("%s: entry %d: %q is not an application name", field, i+1, clipID(name))
		case value == "":
			return PerApp{}, fmt.Errorf("%s: entry %d %q has no value after \"=\"", field, i+1, clipID(e))
		}
		if _, dup := p.Apps[name]; dup || (name == "*" && p.Default != "") {
			return PerApp{}, fmt.Errorf("%s: application %q is given twice", field, name)
		}
		if err := checkValue(field, name, value, check); err != nil {
			return PerApp{}, err
		}
		if name == "*" {
			p.Default = value
			continue
		}
		p.Apps[name] = value
	}
	return p, nil
}

// checkValue runs check on one value and names where it came from.
func checkValue(field, app, value string, check func(string) error) error {
	if check == nil {
		return nil
	}
	if err := check(value); err != nil {
		if app == "" {
			return fmt.Errorf("%s: %w", field, err)
		}
		return fmt.Errorf("%s: %s: %w", field, app, err)
	}
	return nil
}

// Names returns the applications named, sorted.
func (p PerApp) Names() []string {
	out := make([]string, 0, len(p.Apps))
	for a := range p.Apps {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// validAppName reports whether s is a Juju application name: lower-case
// letters, digits and hyphens, starting with a letter, no hyphen at the end
// or before a digit-only part.
func validAppName(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for _, part := range strings.Split(s, "-") {
		if part == "" {
			return false
		}
		digits := true
		for i := 0; i < len(part); i++ {
			c := part[i]
			switch {
			case c >= 'a' && c <= 'z':
				digits = false
			case c >= '0' && c <= '9':
			default:
				return false
			}
		}
		if digits {
			return false
		}
	}
	return true
}
