package jujusim

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"maps"
	"strings"
)

type secret struct {
	uri         string
	ownerApp    string // owning application (also for unit-owned secrets)
	ownerUnit   string // set when the owner is a unit
	label       string // the owner's label
	description string
	rotate      string
	revisions   []map[string]string // revision n is revisions[n-1]
	grants      map[string]int      // consumer app or unit -> relation id (-1: model grant)
	tracked     map[string]int      // consumer unit -> revision it sees
	labels      map[string]string   // consumer unit -> its label
}

func (s *secret) latest() int { return len(s.revisions) }

func newSecretURI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return "secret:" + id[:20]
}

// owns reports whether u may manage s: a unit-owned secret by its unit, an
// application-owned one by the application's leader (readOnly: any unit).
func (s *secret) owns(u *unit, readOnly bool) bool {
	if s.ownerUnit != "" {
		return s.ownerUnit == u.name
	}
	return s.ownerApp == u.app.name && (readOnly || u.app.leader == u.name)
}

func (s *secret) granted(u *unit) bool {
	_, app := s.grants[u.app.name]
	_, un := s.grants[u.name]
	return app || un
}

// lookupSecret finds a secret by URI (or its bare id) or label as c sees it.
func (m *Model) lookupSecret(c *hookCtx, id, label string) *secret {
	if id != "" {
		if !strings.HasPrefix(id, "secret:") {
			id = "secret:" + id
		}
		if s, ok := c.newSecs[id]; ok {
			return s
		}
		return m.secrets[id]
	}
	for _, set := range []map[string]*secret{c.newSecs, m.secrets} {
		for _, uri := range sortedKeys(set) {
			s := set[uri]
			if s.owns(c.unit, true) && s.label == label || s.labels[c.unit.name] == label {
				return s
			}
		}
	}
	return nil
}

func (m *Model) secretLabelFor(u *unit, uri string) string {
	s, ok := m.secrets[uri]
	if !ok {
		return ""
	}
	if l := s.labels[u.name]; l != "" {
		return l
	}
	if s.ownerApp == u.app.name {
		return s.label
	}
	return ""
}

// addRevision gives s a new revision and queues secret-changed on every
// consumer that tracks an older one.
func (m *Model) addRevision(s *secret, content map[string]string) {
	s.revisions = append(s.revisions, maps.Clone(content))
	m.record("", "model", "secret %s revision %d", s.uri, s.latest())
	for _, n := range sortedKeys(s.tracked) {
		if u, ok := m.units[n]; ok && !u.dying && s.tracked[n] < s.latest() {
			m.enqueue(u, &event{kind: "secret-changed", secretURI: s.uri})
		}
	}
}

// AddSecret adds a user secret, as `juju add-secret`, and grants it to the
// applications named; it returns its URI.
func (m *Model) AddSecret(content map[string]string, grantTo ...string) (string, error) {
	if len(content) == 0 {
		return "", fmt.Errorf("cannot add secret: empty content")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &secret{uri: newSecretURI(), ownerApp: "", grants: map[string]int{}, tracked: map[string]int{}, labels: map[string]string{}}
	for _, a := range grantTo {
		if _, ok := m.apps[a]; !ok {
			return "", fmt.Errorf("cannot grant secret: application %q not found", a)
		}
		s.grants[a] = -1
	}
	m.secrets[s.uri] = s
	m.addRevision(s, content)
	return s.uri, nil
}

// UpdateSecret adds a revision to a user secret, as `juju update-secret`.
func (m *Model) UpdateSecret(uri string, content map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[uri]
	if !ok || s.ownerApp != "" {
		return fmt.Errorf("cannot update secret: user secret %q not found", uri)
	}
	m.addRevision(s, content)
	return nil
}

// SecretContent returns the latest revision of secret uri and its number.
func (m *Model) SecretContent(uri string) (map[string]string, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[uri]
	if !ok {
		return nil, 0, fmt.Errorf("secret %q not found", uri)
	}
	return maps.Clone(s.revisions[s.latest()-1]), s.latest(), nil
}

// Secrets returns the URIs of every secret in the model, sorted.
func (m *Model) Secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedKeys(m.secrets)
}
