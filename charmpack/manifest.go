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

// manifestYAML returns manifest.yaml for a charm for bases packed at t:
// one entry per base, with its architectures.
func manifestYAML(t time.Time, bases []Base) ([]byte, error) {
	if len(bases) == 0 {
		return nil, fmt.Errorf("cannot write manifest.yaml: no bases")
	}
	m := manifest{
		Analysis: manifestAnalysis{Attributes: []manifestAttribute{
			{Name: "language", Result: "unknown"},
			{Name: "framework", Result: "unknown"},
		}},
		Version:   Version,
		StartedAt: t.UTC().Format("2006-01-02T15:04:05.000000Z"),
	}
	for _, b := range bases {
		if n := len(m.Bases); n > 0 && m.Bases[n-1].Name == b.Name && m.Bases[n-1].Channel == b.Channel {
			m.Bases[n-1].Architectures = append(m.Bases[n-1].Architectures, b.Arch)
			continue
		}
		m.Bases = append(m.Bases, manifestBase{Name: b.Name, Channel: b.Channel, Architectures: []string{b.Arch}})
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot write manifest.yaml: %w", err)
	}
	return b, nil
}
