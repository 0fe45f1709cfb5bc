package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metric names, after Prometheus's conventions: a dbbackup_ prefix,
// the unit in the name, _total on counters.
const (
	LastSuccessName     = "dbbackup_last_success_timestamp_seconds"
	LastJobOutcomeName  = "dbbackup_last_job_outcome"
	LastJobEndName      = "dbbackup_last_job_end_timestamp_seconds"
	LastJobDurationName = "dbbackup_last_job_duration_seconds"
	LastRawBytesName    = "dbbackup_last_job_raw_bytes"
	LastStoredBytesName = "dbbackup_last_job_stored_bytes"
	JobsName            = "dbbackup_jobs_total"
	JobSecondsName      = "dbbackup_job_duration_seconds_total"
	NextBackupName      = "dbbackup_next_backup_timestamp_seconds"
	MaxAgeName          = "dbbackup_backup_max_age_seconds"
	BucketBackupsName   = "dbbackup_bucket_backups"
	BucketBytesName     = "dbbackup_bucket_stored_bytes"
	BucketListedName    = "dbbackup_bucket_listed_timestamp_seconds"
	StorageUpName       = "dbbackup_storage_reachable"
	StorageCheckedName  = "dbbackup_storage_checked_timestamp_seconds"
	SnapshotName        = "dbbackup_metrics_snapshot_timestamp_seconds"
)

// allNames lists every metric name, for the tests and the docs.
var allNames = []string{
	LastSuccessName, LastJobOutcomeName, LastJobEndName, LastJobDurationName,
	LastRawBytesName, LastStoredBytesName, JobsName, JobSecondsName,
	NextBackupName, MaxAgeName, BucketBackupsName, BucketBytesName,
	BucketListedName, StorageUpName, StorageCheckedName, SnapshotName,
}

// Label names: the database application, the unit (empty for the
// application's facts), the job type and the job's outcome.
const (
	LabelApplication = "application"
	LabelUnit        = "unit"
	LabelType        = "type"
	LabelOutcome     = "outcome"
)

var (
	appLabels  = []string{LabelApplication, LabelUnit}
	typeLabels = []string{LabelApplication, LabelUnit, LabelType}
	kindLabels = []string{LabelApplication, LabelUnit, LabelType, LabelOutcome}

	descLastSuccess = prometheus.NewDesc(LastSuccessName, "Unix time at which the last successful backup ended.", appLabels, nil)
	descOutcome     = prometheus.NewDesc(LastJobOutcomeName, "1 for the outcome of the last finished job of each type, 0 for the other outcome.", kindLabels, nil)
	descLastEnd     = prometheus.NewDesc(LastJobEndName, "Unix time at which the last finished job of each type ended.", typeLabels, nil)
	descLastDur     = prometheus.NewDesc(LastJobDurationName, "Run time of the last finished job of each type.", typeLabels, nil)
	descRaw         = prometheus.NewDesc(LastRawBytesName, "Size of the database stream of the last finished job of each type.", typeLabels, nil)
	descStored      = prometheus.NewDesc(LastStoredBytesName, "Size in the bucket of the last finished job of each type.", typeLabels, nil)
	descJobs        = prometheus.NewDesc(JobsName, "Finished jobs by type and outcome.", kindLabels, nil)
	descJobSeconds  = prometheus.NewDesc(JobSecondsName, "Run time of the finished jobs, added up, by type and outcome.", kindLabels, nil)
	descNext        = prometheus.NewDesc(NextBackupName, "Unix time at which the next scheduled backup is due.", appLabels, nil)
	descMaxAge      = prometheus.NewDesc(MaxAgeName, "Age the last successful backup may reach before the BackupTooOld alert fires.", appLabels, nil)
	descBackups     = prometheus.NewDesc(BucketBackupsName, "Complete backups held in the bucket at the last listing.", appLabels, nil)
	descBucketBytes = prometheus.NewDesc(BucketBytesName, "Total size of the backups held in the bucket at the last listing.", appLabels, nil)
	descListed      = prometheus.NewDesc(BucketListedName, "Unix time of the last listing of the bucket.", appLabels, nil)
	descStorageUp   = prometheus.NewDesc(StorageUpName, "1 if the storage answered at the last attempt, 0 if it did not.", appLabels, nil)
	descChecked     = prometheus.NewDesc(StorageCheckedName, "Unix time of the last attempt to reach the storage.", appLabels, nil)
	descSnapshot    = prometheus.NewDesc(SnapshotName, "Unix time at which the served facts were last updated.", nil, nil)
)

// State holds the snapshot a process serves. It is safe for concurrent
// use: the process calls Set, scrapes read.
type State struct {
	mu   sync.RWMutex
	snap Snapshot
	at   time.Time
}

// timeNow is the clock of Set; tests replace it.
var timeNow = time.Now

var _ prometheus.Collector = (*State)(nil)

// Set replaces the served snapshot after validating it; a refused
// snapshot leaves the previous one served.
func (s *State) Set(snap Snapshot) error {
	if err := snap.Validate(); err != nil {
		return fmt.Errorf("cannot set metrics: %w", err)
	}
	c := cloneSnapshot(snap)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap, s.at = c, timeNow()
	return nil
}

// Snapshot returns a copy of the served snapshot.
func (s *State) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return cloneSnapshot(s.snap)
}

func cloneSnapshot(in Snapshot) Snapshot {
	out := Snapshot{Apps: make([]App, len(in.Apps))}
	for i, a := range in.Apps {
		a.Last = append([]Job(nil), a.Last...)
		a.Counts = append([]Count(nil), a.Counts...)
		if a.Bucket != nil {
			b := *a.Bucket
			a.Bucket = &b
		}
		if a.Storage != nil {
			c := *a.Storage
			a.Storage = &c
		}
		out.Apps[i] = a
	}
	return out
}

// Describe sends the descriptors of every metric State may collect.
func (s *State) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSuccess, descOutcome, descLastEnd, descLastDur, descRaw, descStored, descJobs, descJobSeconds, descNext, descMaxAge, descBackups, descBucketBytes, descListed, descStorageUp, descChecked, descSnapshot} {
		ch <- d
	}
}

// Collect sends the samples of the served snapshot. Facts that are not
// known (no backup yet, no schedule, no listing) are left out rather than
// sent as zero, so an alert on them cannot fire on a guess.
func (s *State) Collect(ch chan<- prometheus.Metric) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.at.IsZero() {
		ch <- gauge(descSnapshot, unix(s.at))
	}
	for _, a := range s.snap.Apps {
		collectApp(ch, a)
	}
}

func collectApp(ch chan<- prometheus.Metric, a App) {
	app := []string{a.Application, a.Unit}
	if !a.LastSuccess.IsZero() {
		ch <- gauge(descLastSuccess, unix(a.LastSuccess), app...)
	}
	for _, j := range a.Last {
		typ := append(app[:2:2], string(j.Type))
		for _, o := range outcomes {
			v := 0.0
			if j.Outcome == o {
				v = 1
			}
			ch <- gauge(descOutcome, v, append(typ[:3:3], string(o))...)
		}
		if !j.Ended.IsZero() {
			ch <- gauge(descLastEnd, unix(j.Ended), typ...)
			if !j.Started.IsZero() {
				ch <- gauge(descLastDur, j.Ended.Sub(j.Started).Seconds(), typ...)
			}
		}
		if j.RawBytes > 0 {
			ch <- gauge(descRaw, float64(j.RawBytes), typ...)
		}
		if j.StoredBytes > 0 {
			ch <- gauge(descStored, float64(j.StoredBytes), typ...)
		}
	}
	for _, c := range a.Counts {
		kind := append(app[:2:2], string(c.Type), string(c.Outcome))
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.CounterValue, float64(c.Jobs), kind...)
		ch <- prometheus.MustNewConstMetric(descJobSeconds, prometheus.CounterValue, c.Seconds, kind...)
	}
	if !a.NextBackup.IsZero() {
		ch <- gauge(descNext, unix(a.NextBackup), app...)
	}
	if a.MaxAge > 0 {
		ch <- gauge(descMaxAge, a.MaxAge.Seconds(), app...)
	}
	if b := a.Bucket; b != nil {
		ch <- gauge(descBackups, float64(b.Backups), app...)
		ch <- gauge(descBucketBytes, float64(b.StoredBytes), app...)
		if !b.Listed.IsZero() {
			ch <- gauge(descListed, unix(b.Listed), app...)
		}
	}
	if c := a.Storage; c != nil {
		v := 0.0
		if c.Reachable {
			v = 1
		}
		ch <- gauge(descStorageUp, v, app...)
		if !c.Checked.IsZero() {
			ch <- gauge(descChecked, unix(c.Checked), app...)
		}
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
