package dbbackup

import (
	"strings"
	"testing"
)

// goodJob is a valid requirer job; cases edit one field of it.
const goodJob = `{"job-id":"job-1","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":{"bucket":"b","access-key":"CANARY-ACCESS","secret-key":"CANARY-SECRET"}}`

const goodReport = `{"job-id":"job-1","job-type":"backup","storage-interface":"s3","storage-config":{"bucket":"b","access-key":"CANARY-ACCESS","secret-key":"CANARY-SECRET"},"status":"running"}`

func TestBadInputsNameTheField(t *testing.T) {
	cases := []struct {
		name, side, jobs, wantPath, wantMsg string
	}{
		{"invalid JSON", "r", `[{"job-id":}]`, "jobs", "invalid JSON at byte 11 (line 1, column 12)"},
		{"not an array", "r", `{"job-id":"x"}`, "jobs", "must be a JSON array of jobs, got object"},
		{"element not object", "r", `[42]`, "jobs[0]", "must be an object, got number"},
		{"job-id wrong type", "r", edit(goodJob, `"job-id":"job-1"`, `"job-id":7`), "jobs[0].job-id", "must be a string, got number"},
		{"job-id missing", "r", edit(goodJob, `"job-id":"job-1",`, ``), "jobs[0].job-id", "required"},
		{"job-id empty", "r", edit(goodJob, `"job-id":"job-1"`, `"job-id":""`), "jobs[0].job-id", "must not be empty"},
		{"job-id with slash", "r", edit(goodJob, `"job-id":"job-1"`, `"job-id":"a/b"`), "jobs[0].job-id", "S3 key part"},
		{"job-id duplicate", "r", "[" + goodJob + "," + goodJob + "]", "jobs[1].job-id", `duplicate "job-1" (first at jobs[0])`},
		{"job-type missing", "r", edit(goodJob, `"job-type":"backup",`, ``), "jobs[0].job-type", "required"},
		{"job-type unknown", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"snapshot"`), "jobs[0].job-type", `must be "backup" or "restore", got "snapshot"`},
		{"job-config missing (requirer)", "r", edit(goodJob, `"job-config":{"compression":true},`, ``), "jobs[0].job-config", "required"},
		{"job-config not object", "r", edit(goodJob, `{"compression":true}`, `true`), "jobs[0].job-config", "must be an object, got boolean"},
		{"compression missing", "r", edit(goodJob, `{"compression":true}`, `{}`), "jobs[0].job-config.compression", "required"},
		{"compression wrong type", "r", edit(goodJob, `{"compression":true}`, `{"compression":"yes"}`), "jobs[0].job-config.compression", "must be a boolean, got string"},
		{"job-config extra key", "r", edit(goodJob, `{"compression":true}`, `{"compression":true,"level":3}`), "jobs[0].job-config.level", "unknown field"},
		{"storage-interface missing", "r", edit(goodJob, `"storage-interface":"s3",`, ``), "jobs[0].storage-interface", "required"},
		{"storage-interface gcs", "r", edit(goodJob, `"storage-interface":"s3"`, `"storage-interface":"gcs"`), "jobs[0].storage-interface", `must be "s3", got "gcs"`},
		{"storage-config missing", "r", `[{"job-id":"j","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3"}]`, "jobs[0].storage-config", "required"},
		{"storage-config not object", "r", `[{"job-id":"j","job-type":"backup","job-config":{"compression":true},"storage-interface":"s3","storage-config":"b"}]`, "jobs[0].storage-config", "must be an object, got string"},
		{"bucket missing", "r", edit(goodJob, `"bucket":"b",`, ``), "jobs[0].storage-config.bucket", "required"},
		{"bucket with slash", "r", edit(goodJob, `"bucket":"b"`, `"bucket":"a/b"`), "jobs[0].storage-config.bucket", "bucket name"},
		{"access-key missing", "r", edit(goodJob, `"access-key":"CANARY-ACCESS",`, ``), "jobs[0].storage-config.access-key", "required"},
		{"secret-key missing", "r", edit(goodJob, `,"secret-key":"CANARY-SECRET"`, ``), "jobs[0].storage-config.secret-key", "required"},
		{"secret-key wrong type", "r", edit(goodJob, `"secret-key":"CANARY-SECRET"`, `"secret-key":12345`), "jobs[0].storage-config.secret-key", "must be a string, got number"},
		{"secret-key empty", "r", edit(goodJob, `"secret-key":"CANARY-SECRET"`, `"secret-key":""`), "jobs[0].storage-config.secret-key", "must not be empty"},
		{"api version 3", "r", s3(`"s3-api-version":3`), "jobs[0].storage-config.s3-api-version", `must be 2 or 4, got "3"`},
		{"api version text", "r", s3(`"s3-api-version":"v4"`), "jobs[0].storage-config.s3-api-version", `must be 2 or 4, got "v4"`},
		{"api version bool", "r", s3(`"s3-api-version":true`), "jobs[0].storage-config.s3-api-version", "must be 2 or 4, got boolean"},
		{"uri style", "r", s3(`"s3-uri-style":"virtual"`), "jobs[0].storage-config.s3-uri-style", `must be "path" or "host", got "virtual"`},
		{"endpoint not a URL", "r", s3(`"endpoint":"minio:9000"`), "jobs[0].storage-config.endpoint", "http:// or https:// URL"},
		{"endpoint with credentials", "r", s3(`"endpoint":"http://user:pw@minio:9000"`), "jobs[0].storage-config.endpoint", "without credentials"},
		{"path escapes", "r", s3(`"path":"backups/../../etc"`), "jobs[0].storage-config.path", `".." segments`},
		{"tls-ca-chain number", "r", s3(`"tls-ca-chain":5`), "jobs[0].storage-config.tls-ca-chain", "must be an array of strings or a string, got number"},
		{"tls-ca-chain bad item", "r", s3(`"tls-ca-chain":["a",1]`), "jobs[0].storage-config.tls-ca-chain[1]", "must be a string, got number"},
		{"attributes bad JSON string", "r", s3(`"attributes":"[\"a=b\""`), "jobs[0].storage-config.attributes", "not an array of strings"},
		{"attribute not Name=value", "r", s3(`"attributes":["novalue"]`), "jobs[0].storage-config.attributes[0]", "Name=value"},
		{"restore without artefact-path", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"restore"`), "jobs[0].artefact-path", "required for a restore"},
		{"restore with empty artefact-path", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"restore","artefact-path":""`), "jobs[0].artefact-path", "must not be empty"},
		{"artefact-path escapes", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"restore","artefact-path":"a/../../b"`), "jobs[0].artefact-path", `".." segments`},
		{"artefact-path control char", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"backup","artefact-path":"a\nb"`), "jobs[0].artefact-path", "control characters"},
		{"artefact-path wrong type", "r", edit(goodJob, `"job-type":"backup"`, `"job-type":"backup","artefact-path":["a"]`), "jobs[0].artefact-path", "must be a string, got array"},
		{"status missing (provider)", "p", edit(goodReport, `,"status":"running"`, ``), "jobs[0].status", "required"},
		{"status unknown", "p", edit(goodReport, `"status":"running"`, `"status":"done"`), "jobs[0].status", `must be "running", "success" or "error", got "done"`},
		{"message wrong type", "p", edit(goodReport, `"status":"running"`, `"status":"error","message":{"a":1}`), "jobs[0].message", "must be a string, got object"},
		{"provider job-type missing", "p", edit(goodReport, `"job-type":"backup",`, ``), "jobs[0].job-type", "required"},
		{"provider storage-config missing", "p", `[{"job-id":"j","job-type":"backup","storage-interface":"s3","status":"running"}]`, "jobs[0].storage-config", "required"},
		{"null job-id", "p", edit(goodReport, `"job-id":"job-1"`, `"job-id":null`), "jobs[0].job-id", "must be a string, got null"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			side := Requirer
			if c.side == "p" {
				side = Provider
			}
			jobs := c.jobs
			if strings.HasPrefix(jobs, "{") && c.name != "not an array" {
				jobs = "[" + jobs + "]"
			}
			ps := ParseJobs(jobs, side).AllProblems()
			text := ps.Error()
			if strings.Contains(text, "CANARY") {
				t.Fatalf("a credential leaked into the problems:\n%s", text)
			}
			for _, p := range ps {
				if p.Path == c.wantPath && strings.Contains(p.Msg, c.wantMsg) {
					return
				}
			}
			t.Fatalf("want a problem %s: ...%s...; got:\n%s", c.wantPath, c.wantMsg, text)
		})
	}
}

// edit replaces old by new in a job, failing loudly if old is absent.
func edit(job, old, new string) string {
	if !strings.Contains(job, old) {
		panic("test case edits a missing fragment: " + old)
	}
	return strings.Replace(job, old, new, 1)
}

// s3 adds fields to the storage-config of the good job.
func s3(fields string) string {
	return edit(goodJob, `"bucket":"b"`, `"bucket":"b",`+fields)
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	jobs := `[{"job-id":"","job-type":"x","job-config":{"compression":1,"z":1},"storage-interface":"gcs","storage-config":{"s3-api-version":3}}, 5]`
	ps := ParseJobs(jobs, Requirer).AllProblems()
	want := []string{
		"jobs[0].job-id: must not be empty",
		`jobs[0].job-type: must be "backup" or "restore", got "x"`,
		"jobs[0].job-config.compression: must be a boolean, got number",
		"jobs[0].job-config.z: unknown field (v0 job-config allows only compression)",
		`jobs[0].storage-interface: must be "s3", got "gcs"`,
		"jobs[0].storage-config.bucket: required",
		"jobs[0].storage-config.access-key: required",
		"jobs[0].storage-config.secret-key: required",
		`jobs[0].storage-config.s3-api-version: must be 2 or 4, got "3"`,
		"jobs[1]: must be an object, got number",
	}
	got := strings.Split(ps.Sorted().Error(), "\n")
	wantSorted := strings.Split(Problems(toProblems(want)).Sorted().Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(wantSorted, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSorted, "\n"))
	}
}

func toProblems(lines []string) []Problem {
	out := make([]Problem, len(lines))
	for i, l := range lines {
		k := strings.Index(l, ": ")
		out[i] = Problem{Path: l[:k], Msg: l[k+2:]}
	}
	return out
}

func TestInvalidEntryKeepsItsID(t *testing.T) {
	l := ParseJobs(`[`+edit(goodJob, `"job-type":"backup"`, `"job-type":"nope"`)+`,`+edit(goodJob, `"job-1"`, `"job-2"`)+`]`, Requirer)
	if len(l.Entries) != 2 {
		t.Fatalf("got %d entries, want 2", len(l.Entries))
	}
	if l.Entries[0].Valid() || l.Entries[0].Job.ID != "job-1" {
		t.Errorf("entry 0: valid=%v id=%q, want invalid with id job-1", l.Entries[0].Valid(), l.Entries[0].Job.ID)
	}
	if got := l.Jobs(); len(got) != 1 || got[0].ID != "job-2" {
		t.Errorf("valid jobs = %+v, want only job-2", got)
	}
}
