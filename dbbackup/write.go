package dbbackup

import (
	"encoding/json"
	"fmt"
)

// MarshalJobs writes jobs as the value of the jobs field for side: a JSON
// array with keys in sorted order, known fields in their normalised shape
// and unknown fields as they were read. The same jobs give the same bytes.
// On the provider side the credentials are always masked (see Mask), so a
// report never republishes them.
func MarshalJobs(jobs []Job, side Side) (string, error) {
	objs := make([]map[string]json.RawMessage, len(jobs))
	for i, j := range jobs {
		if side == Provider {
			j = j.Redacted()
		}
		o, err := jobObject(j, side)
		if err != nil {
			return "", fmt.Errorf("cannot write job %q: %w", j.ID, err)
		}
		objs[i] = o
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return "", fmt.Errorf("cannot write jobs: %w", err)
	}
	return string(b), nil
}

// jobObject builds the JSON object of one job.
func jobObject(j Job, side Side) (map[string]json.RawMessage, error) {
	o := make(map[string]json.RawMessage, len(j.Extra)+8)
	for k, v := range j.Extra {
		o[k] = v
	}
	put := func(k string, v any) {
		b, _ := json.Marshal(v) // strings, bools and maps of them cannot fail
		o[k] = b
	}
	put("job-id", j.ID)
	put("job-type", j.Type)
	if j.Config != nil {
		put("job-config", map[string]bool{"compression": j.Config.Compression})
	} else if side == Requirer {
		return nil, fmt.Errorf("job-config: required on the requirer side")
	}
	si := j.StorageInterface
	if si == "" {
		si = StorageS3
	}
	put("storage-interface", si)
	sc, err := storageObject(j.Storage)
	if err != nil {
		return nil, err
	}
	o["storage-config"] = sc
	if j.ArtefactPath != "" {
		put("artefact-path", j.ArtefactPath)
	}
	if side == Provider {
		put("status", j.Status)
		delete(o, "message") // a stale one in Extra must not outlive the report
		if j.Message != "" {
			put("message", j.Message)
		}
	}
	return o, nil
}

// storageObject builds the normalised storage-config object.
func storageObject(s StorageConfig) (json.RawMessage, error) {
	o := make(map[string]any, len(s.Extra)+11)
	for k, v := range s.Extra {
		o[k] = v
	}
	o["bucket"] = s.Bucket
	o["access-key"] = s.AccessKey
	o["secret-key"] = s.SecretKey
	opt := map[string]string{
		"path": s.Path, "endpoint": s.Endpoint, "region": s.Region,
		"s3-uri-style": s.URIStyle, "storage-class": s.StorageClass,
	}
	for k, v := range opt {
		if v != "" {
			o[k] = v
		}
	}
	if len(s.TLSCAChain) > 0 {
		o["tls-ca-chain"] = s.TLSCAChain
	}
	if len(s.Attributes) > 0 {
		o["attributes"] = s.Attributes
	}
	if s.APIVersion != 0 {
		o["s3-api-version"] = s.APIVersion
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("cannot write storage-config: %w", err)
	}
	return b, nil
}
