package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// request is a job as the journal keeps it: the typed fields of
// dbbackup.Job, credentials included (the record's file is 0600), written
// as a JSON object of the runner's own schema, so that a rename in the Go
// type can never silently change what an older journal means. A record
// written before this schema held the job as requirer wire text in a
// string; it still reads (see UnmarshalJSON).
type request struct {
	job dbbackup.Job
	// legacy is the wire text of a record of the previous form; err is
	// why it cannot be read. Both are kept so that rewriting the record
	// loses nothing and Job reports the problem for that one job only.
	legacy string
	err    error
}

// storedJob is request's JSON form.
type storedJob struct {
	ID               string                     `json:"job-id"`
	Type             dbbackup.JobType           `json:"job-type"`
	Config           *storedConfig              `json:"job-config,omitempty"`
	StorageInterface string                     `json:"storage-interface,omitempty"`
	Storage          storedStorage              `json:"storage-config"`
	ArtefactPath     string                     `json:"artefact-path,omitempty"`
	Status           dbbackup.Status            `json:"status,omitempty"`
	Message          string                     `json:"message,omitempty"`
	Extra            map[string]json.RawMessage `json:"extra,omitempty"`
}

type storedConfig struct {
	Compression bool `json:"compression"`
}

// storedStorage is dbbackup.StorageConfig with its credentials in clear:
// the runner needs them to reach the bucket.
type storedStorage struct {
	Bucket       string                     `json:"bucket"`
	AccessKey    string                     `json:"access-key"`
	SecretKey    string                     `json:"secret-key"`
	Path         string                     `json:"path,omitempty"`
	Endpoint     string                     `json:"endpoint,omitempty"`
	Region       string                     `json:"region,omitempty"`
	URIStyle     string                     `json:"s3-uri-style,omitempty"`
	StorageClass string                     `json:"storage-class,omitempty"`
	TLSCAChain   []string                   `json:"tls-ca-chain,omitempty"`
	APIVersion   int                        `json:"s3-api-version,omitempty"`
	Attributes   []string                   `json:"attributes,omitempty"`
	Extra        map[string]json.RawMessage `json:"extra,omitempty"`
}

func storeJob(j dbbackup.Job) storedJob {
	s := j.Storage
	out := storedJob{ID: j.ID, Type: j.Type, StorageInterface: j.StorageInterface, ArtefactPath: j.ArtefactPath,
		Status: j.Status, Message: j.Message, Extra: j.Extra,
		Storage: storedStorage{Bucket: s.Bucket, AccessKey: s.AccessKey, SecretKey: s.SecretKey, Path: s.Path,
			Endpoint: s.Endpoint, Region: s.Region, URIStyle: s.URIStyle, StorageClass: s.StorageClass,
			TLSCAChain: s.TLSCAChain, APIVersion: s.APIVersion, Attributes: s.Attributes, Extra: s.Extra}}
	if j.Config != nil {
		out.Config = &storedConfig{Compression: j.Config.Compression}
	}
	return out
}

func (s storedJob) job() dbbackup.Job {
	st := s.Storage
	out := dbbackup.Job{ID: s.ID, Type: s.Type, StorageInterface: s.StorageInterface, ArtefactPath: s.ArtefactPath,
		Status: s.Status, Message: s.Message, Extra: s.Extra,
		Storage: dbbackup.StorageConfig{Bucket: st.Bucket, Credentials: dbbackup.Credentials{AccessKey: st.AccessKey, SecretKey: st.SecretKey}, Path: st.Path,
			Endpoint: st.Endpoint, Region: st.Region, URIStyle: st.URIStyle, StorageClass: st.StorageClass,
			TLSCAChain: st.TLSCAChain, APIVersion: st.APIVersion, Attributes: st.Attributes, Extra: st.Extra}}
	if s.Config != nil {
		out.Config = &dbbackup.JobConfig{Compression: s.Config.Compression}
	}
	return out
}

// MarshalJSON writes the typed job, or the previous form's text as it was
// read when it could not be read.
func (r request) MarshalJSON() ([]byte, error) {
	switch {
	case r.legacy != "" && r.err != nil:
		return json.Marshal(r.legacy)
	case r.job.ID == "":
		return []byte("null"), nil
	}
	return json.Marshal(storeJob(r.job))
}

// UnmarshalJSON reads the typed job, or a string: the requirer wire text
// of one job, as the previous version of the journal wrote it. A string
// that does not hold exactly one valid job is kept and reported by Job,
// so that one damaged record never hides the others.
func (r *request) UnmarshalJSON(data []byte) error {
	*r = request{}
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		return nil
	case len(data) > 0 && data[0] == '"':
		if err := json.Unmarshal(data, &r.legacy); err != nil {
			return err
		}
		l := dbbackup.ParseJobs(r.legacy, dbbackup.Requirer)
		if jobs := l.Jobs(); len(jobs) == 1 {
			r.job = jobs[0]
			return nil
		}
		r.err = fmt.Errorf("%v", l.AllProblems())
		return nil
	}
	var s storedJob
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	r.job = s.job()
	return nil
}

// Job returns the requested job, credentials included.
func (r Record) Job() (dbbackup.Job, error) {
	switch {
	case r.Request.err != nil:
		return dbbackup.Job{}, fmt.Errorf("cannot read job %q from the journal: %w", r.JobID, r.Request.err)
	case r.Request.job.ID == "":
		return dbbackup.Job{}, fmt.Errorf("cannot read job %q from the journal: %w", r.JobID, errNoRequest)
	case r.Request.job.ID != r.JobID:
		return dbbackup.Job{}, fmt.Errorf("cannot read job %q from the journal: it holds job %q", r.JobID, r.Request.job.ID)
	}
	return r.Request.job, nil
}

var errNoRequest = errors.New("the record holds no job")
