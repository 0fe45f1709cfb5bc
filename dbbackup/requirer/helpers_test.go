package requirer_test

import (
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// Canary credentials: they must never appear in a history or a view.
const (
	canaryAccess = "CANARY-ACCESS-KEY-7f3a"
	canarySecret = "CANARY-SECRET-KEY-91bc"
)

var t0 = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

func storageConfig() dbbackup.StorageConfig {
	return dbbackup.StorageConfig{
		Bucket: "backups", Credentials: dbbackup.Credentials{AccessKey: canaryAccess, SecretKey: canarySecret},
		Path: "prod", Endpoint: "https://s3.example.com", Region: "eu-west-1",
		Attributes: []string{"x-amz-server-side-encryption-customer-key=" + canarySecret},
	}
}

// waiting returns a valid waiting record of app requested at t0+at.
func waiting(id, app string, typ dbbackup.JobType, at time.Duration) requirer.Record {
	r := requirer.Record{
		JobID: id, Application: app, Type: typ, Source: requirer.FromAction,
		Storage: requirer.StorageOf(storageConfig()), RequestedAt: t0.Add(at), Status: dbbackup.Waiting,
	}
	if typ == dbbackup.Restore {
		r.ArtefactPath = "prod/mysql/job-old"
	}
	return r
}

// with returns r changed by f.
func with(r requirer.Record, f func(*requirer.Record)) requirer.Record {
	f(&r)
	return r
}

// running returns r running on unit since t0+at.
func running(r requirer.Record, unit string, at time.Duration) requirer.Record {
	return with(r, func(r *requirer.Record) {
		r.Status, r.Unit, r.StartedAt, r.SeenAt = dbbackup.Running, unit, t0.Add(at), t0.Add(at)
	})
}

// finished returns r terminal with status s on unit at t0+at.
func finished(r requirer.Record, s dbbackup.Status, unit string, at time.Duration) requirer.Record {
	return with(r, func(r *requirer.Record) {
		r.Status, r.Unit, r.FinishedAt, r.SeenAt = s, unit, t0.Add(at), t0.Add(at)
	})
}

// report returns a provider job as a unit reports it.
func report(id string, typ dbbackup.JobType, s dbbackup.Status, msg, path string) dbbackup.Job {
	return dbbackup.Job{
		ID: id, Type: typ, Config: &dbbackup.JobConfig{}, StorageInterface: dbbackup.StorageS3,
		Storage: storageConfig().Redacted(), Status: s, Message: msg, ArtefactPath: path,
	}
}

func hist(rs ...requirer.Record) requirer.History { return requirer.History{Records: rs} }
