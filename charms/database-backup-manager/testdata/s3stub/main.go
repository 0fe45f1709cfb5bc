// Command s3stub is an s3-integrator stand-in for the manager's tests: it
// publishes the storage fields on every s3-credentials relation, in v0
// (plain keys) or v1 (a secret-extra Juju secret) shape.
package main

import (
	"os"
	"strings"

	"github.com/gruyaume/goops"
)

type config struct {
	Mode      string `json:"mode"`
	Bucket    string `json:"bucket"`
	Endpoint  string `json:"endpoint"`
	Region    string `json:"region"`
	Path      string `json:"path"`
	AccessKey string `json:"access-key"`
	SecretKey string `json:"secret-key"`
}

func main() {
	if err := run(); err != nil {
		goops.LogErrorf("s3stub: %v", err)
		os.Exit(1)
	}
}

func run() error {
	var c config
	if err := goops.GetConfig(&c); err != nil {
		return err
	}
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return err
	}
	ids, err := goops.GetRelationIDs("s3-credentials")
	if err != nil {
		return err
	}
	data := map[string]string{
		// Shapes data-platform-libs writes: JSON-encoded strings and numbers.
		"bucket": c.Bucket, "endpoint": `"` + c.Endpoint + `"`, "region": c.Region,
		"path": c.Path, "s3-uri-style": "path", "s3-api-version": "4",
		"tls-ca-chain": "", "attributes": "[]", "lib-version": "1",
	}
	switch c.Mode {
	case "v1":
		uri, err := secret(c)
		if err != nil {
			return err
		}
		data["secret-extra"], data["access-key"], data["secret-key"] = uri, "", ""
		for _, id := range ids {
			if err := goops.GrantSecretToRelation(uri, id); err != nil {
				return err
			}
		}
	default:
		data["access-key"], data["secret-key"], data["secret-extra"] = c.AccessKey, c.SecretKey, ""
	}
	for _, id := range ids {
		if err := goops.SetAppRelationData(id, data); err != nil {
			return err
		}
	}
	return goops.SetUnitStatus(goops.StatusActive, "s3 credentials published ("+c.Mode+")")
}

// secret adds or updates the application secret holding the keys.
func secret(c config) (string, error) {
	content := map[string]string{"access-key": c.AccessKey, "secret-key": c.SecretKey}
	if _, err := goops.GetSecretByLabel("s3-keys", false, false); err != nil {
		out, err := goops.AddSecret(&goops.AddSecretOptions{Content: content, Label: "s3-keys", Owner: goops.OwnerApplication})
		return strings.TrimSpace(out), err
	}
	info, err := goops.GetSecretInfoByLabel("s3-keys")
	if err != nil {
		return "", err
	}
	uri := ""
	for id := range info {
		uri = "secret:" + id
	}
	return uri, goops.SetSecret(&goops.SetSecretOptions{ID: uri, Content: content})
}
