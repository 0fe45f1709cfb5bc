package dbbackup

// Databag is one relation databag: string keys to string values, as Juju
// keeps it. Keys other than jobs belong to others and are left alone.
type Databag map[string]string

// Jobs parses the databag's jobs field as written by side.
func (d Databag) Jobs(side Side) List {
	return ParseJobs(d[JobsKey], side)
}

// SetJobs writes jobs into the databag's jobs field and reports whether the
// value changed, so a hook that changes nothing writes nothing. Other keys
// are kept as they are. An empty list removes the field.
func (d Databag) SetJobs(jobs []Job, side Side) (changed bool, err error) {
	if len(jobs) == 0 {
		_, had := d[JobsKey]
		delete(d, JobsKey)
		return had, nil
	}
	text, err := MarshalJobs(jobs, side)
	if err != nil {
		return false, err
	}
	if d[JobsKey] == text {
		return false, nil
	}
	d[JobsKey] = text
	return true, nil
}
