package s3_test

import (
	"context"
	"slices"
	"testing"

	"github.com/dbbackup/dbbackup/internal/testenv"
	"github.com/dbbackup/dbbackup/store"
)

func listUploads(t *testing.T, s store.Uploads, prefix string) []store.Upload {
	t.Helper()
	var got []store.Upload
	for u, err := range s.ListUploads(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("ListUploads(%q): %v", prefix, err)
		}
		got = append(got, u)
	}
	return got
}

func uploadKeys(ups []store.Upload) []string {
	var keys []string
	for _, u := range ups {
		keys = append(keys, u.Key)
	}
	return keys
}

func testUploads(t *testing.T, srv *testenv.S3Server) {
	cfg := newBucket(t, srv)
	ids := map[string]string{}
	for _, key := range []string{"site/scope/job-1/data.zst", "site/scope/job-2/data.zst", "site/scope/job-2/log", "site/other/job-3/data.zst", "elsewhere/job-4/data.zst"} {
		ids[key] = srv.StartUpload(t, cfg.Bucket, key)
	}
	cfg.Path = "/site/"
	s := newStore(t, cfg, testOptions)

	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"other/job-3/data.zst", "scope/job-1/data.zst", "scope/job-2/data.zst", "scope/job-2/log"}},
		{"scope/", []string{"scope/job-1/data.zst", "scope/job-2/data.zst", "scope/job-2/log"}},
		{"scope/job-2/", []string{"scope/job-2/data.zst", "scope/job-2/log"}},
		{"scope/job-9/", nil},
	} {
		ups := listUploads(t, s, tt.prefix)
		if got := uploadKeys(ups); !slices.Equal(got, tt.want) {
			t.Errorf("ListUploads(%q) keys = %q, want %q", tt.prefix, got, tt.want)
		}
		for _, u := range ups {
			if want := ids["site/"+u.Key]; u.ID != want {
				t.Errorf("upload of %s has id %q, want %q", u.Key, u.ID, want)
			}
			if u.Initiated.IsZero() {
				t.Errorf("upload of %s has no initiated time", u.Key)
			}
		}
	}

	for _, u := range listUploads(t, s, "scope/job-2/") {
		if err := s.AbortUpload(context.Background(), u); err != nil {
			t.Fatalf("AbortUpload(%s): %v", u.Key, err)
		}
		// Aborting it again is not an error.
		if err := s.AbortUpload(context.Background(), u); err != nil {
			t.Errorf("second AbortUpload(%s): %v", u.Key, err)
		}
	}
	got := srv.Uploads(t, cfg.Bucket)
	slices.Sort(got)
	if want := []string{"elsewhere/job-4/data.zst", "site/other/job-3/data.zst", "site/scope/job-1/data.zst"}; !slices.Equal(got, want) {
		t.Errorf("server's uploads after aborting job-2's = %q, want %q", got, want)
	}
	if err := s.AbortUpload(context.Background(), store.Upload{Key: "scope/job-1/data.zst"}); err == nil {
		t.Error("AbortUpload without an id succeeded")
	}
}

func TestUploadsVersityGW(t *testing.T) { testUploads(t, testenv.StartVersityGW(t)) }

func TestUploadsMinIO(t *testing.T) { testUploads(t, testenv.StartMinIO(t)) }
