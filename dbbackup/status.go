package dbbackup

// Status is where a job is. It is the one vocabulary of the whole road,
// from a provider unit's runner to the manager's history: the wire's
// three statuses (running, success, error: all a provider ever writes on
// the database_backup relation) and the states either side needs on its
// own, each with its place in Wire.
type Status string

// The statuses of a job.
const (
	// Running: a unit runs the job (wire).
	Running Status = "running"
	// Success: the job ended well (wire; terminal).
	Success Status = "success"
	// Error: the job failed, or will never run (wire; terminal).
	Error Status = "error"

	// Pending: in a provider unit's journal, not started by its runner
	// yet. Reported running: the unit has taken it and it must never be
	// handed out again.
	Pending Status = "pending"
	// Accepted: on the provider's peer relation only, a job the leader
	// released to a unit that acknowledges it and waits for the leader's
	// clearance to start. Reported running.
	Accepted Status = "accepted"
	// Waiting: the manager requested the job and no unit reports it yet.
	// Not reported by any unit.
	Waiting Status = "waiting"
	// Lost: the manager saw no unit report the job within its lost
	// timeout (terminal for the manager); the manager's word for an error
	// no unit reported.
	Lost Status = "lost"
)

// Terminal reports whether s is final: success, error or lost.
func (s Status) Terminal() bool { return s == Success || s == Error || s == Lost }

// OnWire reports whether s is one of the wire's statuses (running,
// success, error): the only ones a provider writes on the relation.
func (s Status) OnWire() bool { return s == Running || s == Success || s == Error }

// Wire returns the wire status that stands for s: running for pending,
// accepted and running; success; error for error and lost; empty for
// waiting and unknown statuses, which no unit reports.
func (s Status) Wire() Status {
	switch s {
	case Pending, Accepted, Running:
		return Running
	case Success:
		return Success
	case Error, Lost:
		return Error
	}
	return ""
}
