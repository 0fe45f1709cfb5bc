package charmpack

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Version is written as charmcraft-version in manifest.yaml, to tell a
// charmpack archive from one charmcraft packed.
const Version = "charmpack-1"

// manifest is manifest.yaml as charmcraft writes it.
type manifest struct {
	Analysis  manifestAnalysis `yaml:"analysis"`
	Version   string           `yaml:"charmcraft-version"`
	StartedAt string           `yaml:"charmcraft-started-at"`
	Bases     []manifestBase   `yaml:"bases"`
}

type manifestAnalysis struct {
	Attributes []manifestAttribute `yaml:"attributes"`
}

type manifestAttribute struct {
	Name   string `yaml:"name"`
	Result string `yaml:"result"`
}

type manifestBase struct {
	Name          string   `yaml:"name"`
	Channel       string   `yaml:"channel"`
	Architectures []string `yaml:"architectures"`
}

// Bases are the bases the archives are for: Ubuntu 22.04 and 24.04 on
// amd64 (a static Go binary runs on both).
var Bases = []string{"22.04", "24.04"}

// manifestYAML returns manifest.yaml for a charm packed at t.
func manifestYAML(t time.Time) ([]byte, error) {
	m := manifest{
		Analysis: manifestAnalysis{Attributes: []manifestAttribute{
			{Name: "language", Result: "unknown"},
			{Name: "framework", Result: "unknown"},
		}},
		Version:   Version,
		StartedAt: t.UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
	for _, ch := range Bases {
		m.Bases = append(m.Bases, manifestBase{Name: "ubuntu", Channel: ch, Architectures: []string{"amd64"}})
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot write manifest.yaml: %w", err)
	}
	return b, nil
}
