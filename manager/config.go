package manager

import (
	"time"

	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// config is the charm's configuration.
type config struct {
	MaxPending     int    `json:"max-pending-jobs"`
	JobTimeout     string `json:"job-timeout"`
	BackupSchedule string `json:"backup-schedule"`
	RetentionCount string `json:"retention-count"`
	RetentionDays  string `json:"retention-days"`
	// EncryptionSecret names the Juju secret of the encryption keys
	// (encryption.go).
	EncryptionSecret string `json:"encryption-secret"`
	MetricsAddress   string `json:"metrics-address"`
	BackupMaxAge     string `json:"backup-max-age"`
	VerifySchedule   string `json:"verify-schedule"`
}

// jobTimeout returns the lost timeout; an unreadable value means 24h.
func (c config) jobTimeout() time.Duration {
	d, err := time.ParseDuration(c.JobTimeout)
	if err != nil || d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// maxPending returns the pending limit per application, at least 1.
func (c config) maxPending() int {
	if c.MaxPending < 1 {
		return 10
	}
	return c.MaxPending
}

// policy is the parsed schedule and retention configuration.
type policy struct {
	schedules   requirer.PerApp // backup-schedule
	count, days requirer.PerApp // retention-count, retention-days
	verify      requirer.PerApp // verify-schedule
	// parsed holds each expression of schedules, parsed once.
	parsed map[string]requirer.Schedule
}

// parsePolicy reads backup-schedule, retention-count and retention-days;
// the error names the option and the entry.
func parsePolicy(c config) (policy, error) {
	p := policy{parsed: map[string]requirer.Schedule{}}
	var err error
	checkSpec := func(v string) error {
		s, err := requirer.ParseSchedule(v)
		p.parsed[v] = s
		return err
	}
	if p.schedules, err = requirer.ParsePerApp("backup-schedule", c.BackupSchedule, checkSpec); err != nil {
		return policy{}, err
	}
	if p.count, err = requirer.ParsePerApp("retention-count", c.RetentionCount, requirer.CheckRetentionValue); err != nil {
		return policy{}, err
	}
	if p.days, err = requirer.ParsePerApp("retention-days", c.RetentionDays, requirer.CheckRetentionValue); err != nil {
		return policy{}, err
	}
	if p.verify, err = requirer.ParsePerApp("verify-schedule", c.VerifySchedule, checkSpec); err != nil {
		return policy{}, err
	}
	return p, nil
}

// schedule returns app's schedule, if it has one.
func (p policy) schedule(app string) (requirer.Schedule, bool) {
	s, ok := p.parsed[p.schedules.For(app)]
	return s, ok
}

// retention returns app's retention.
func (p policy) retention(app string) requirer.Retention {
	return requirer.RetentionFor(p.count, p.days, app)
}
