// Package provider holds the pure decisions of the provider (database) side
// of the database_backup relation: which requested jobs are new, which unit
// runs each, which may start under the locking rules, and what each unit
// reports. It does no I/O: callers pass plain values read from databags and
// write back what it returns.
//
// # Who decides: the provider leader assigns, units obey
//
// A provider unit cannot read its siblings' unit databags on the
// database_backup relation, and a non-leader cannot read its own
// application databag, so no rule "every unit computes the same answer" can
// see enough. Instead the charm keeps two documents in its peer relation:
//
//   - the assignment table (Assignments), in the peer application databag,
//     written by the leader only (Marshal, ParseAssignments);
//   - each unit's reports ([]Report), in its own peer unit databag: the
//     mirror of its runner's state, which the leader reads
//     (MarshalReports, ParseReports).
//
// In every hook the leader calls Assign with the requirer's list, the last
// table it wrote, the live units and their reports, and writes Plan.Table
// (equal input gives equal output, independent of map order, so writing an
// unchanged table is a no-op). Every unit, the leader included, calls
// UnitPlan with the requirer's list, the table as read at the start of the
// hook and its runner's state; it starts UnitDecision.Start, then calls
// UnitPlan again with the runner's new state and writes UnitDecision.Reports
// to its database_backup unit databag and UnitDecision.Peer to its peer
// unit databag.
//
// The leader must give UnitPlan the table it read, not the Plan.Table of
// the same hook: databag writes are committed only when the hook succeeds,
// but a job the runner starts stays started, so a unit must act only on a
// table that is already committed. (The leader's own reports then follow
// its decisions one hook later.)
//
// # The life of a job in the table
//
//	waiting ─release─▶ released ─unit acknowledges─▶ running ─unit reports terminal─▶ done
//	   │                                          (unit starts it)
//	   └─invalid request─▶ settled ◀─ unit departed while running, or reporter departed
//
// Waiting jobs have no unit and are not reported (v0 has no "waiting"
// status); New lists the requested jobs the table does not hold yet.
// A released job is named to one unit, which acknowledges it in its peer
// databag (status dbbackup.Accepted) without starting it; once the leader has seen
// that, it marks the job running and the unit starts it. This extra round
// trip is what makes a departure safe to judge: the leader cannot read a
// departed unit's databag, so a "running" report written just before the
// unit left may never be seen; but a unit starts only jobs the table marks
// running, so a released job whose unit departed has certainly not started.
// Released and running jobs hold a lock. Done and settled jobs carry their
// Outcome, so a result survives the departure of the unit that reported it.
//
// # Locking: by releasing, cluster-wide, in the requirer's order
//
// A unit starts only the jobs released (and cleared) to it. The leader
// walks the waiting jobs in the requirer's list order and:
//
//   - releases a backup unless a restore holds a lock or an earlier restore
//     waits (backups run concurrently, up to MaxBackupsPerUnit per unit
//     when it is set);
//   - releases a restore only when no job holds a lock, and only when no
//     earlier restore waits;
//   - releases nothing after a waiting restore (first in, first out), so a
//     stream of later backups never starves a restore: once the jobs ahead
//     of it finish, it is released.
//
// A job holds its lock from its release until the leader sees its unit
// report it terminal, or sees the unit depart. A job a live unit reports
// running also holds a lock, even when the table lost it. So no restore
// ever runs beside a backup or another restore, whatever the order in which
// hooks see each other's writes: a unit reports a job terminal only after
// its runner has finished it.
//
// # What the requirer sees
//
// A unit reports a job on the database_backup relation once its runner has
// started it: "running" while the job runs, and still "running" after the
// runner finished it, until the leader has recorded the outcome in the
// table (done); from then on the recorded outcome. So a unit that departs
// after finishing a job, but before the leader saw its result, never shows
// the requirer "success" followed by the leader's "error"; every job shows
// at most one terminal status, and keeps it while the requirer lists it.
//
// # Choice of unit
//
// The leader releases a job to the live unit with the fewest jobs holding a
// lock; ties go to the highest rendezvous hash (FNV-64a) of job-id and unit
// name. Exactly one unit is named per job, and exactly that unit reports it.
//
// # Units joining and leaving
//
// A unit joining is one more candidate from the next Assign on; nothing
// moves to it. When a unit is no longer live (it departed the peer
// relation; it must stop its runner then), the next Assign handles its jobs:
//
//   - released (not yet cleared to start): waiting again, in its place in
//     the requirer's order, so it is released to a live unit by the same
//     rules; it has not started, so it is neither lost nor run twice;
//   - running (cleared to start, perhaps started): settled as error
//     "unit <name> departed while running the job", reported by the leader;
//     its lock is freed; it is never run again;
//   - done or settled: the leader reports the recorded outcome from then on.
//
// When the leader leaves, the new leader starts from the last table written
// and applies the same rules. A job is never left "running" forever: either
// its unit reports it, or the unit departed and the job is settled. If the
// table is lost, jobs that live units report running or finished are
// adopted back to those units (a job settled by the leader may then run
// again: keep the table in the peer application databag, which outlives
// any unit).
//
// # Invalid requests
//
// An entry with problems but a usable job-id is settled at once as error,
// with all its problems ("path: message", joined by "; ") as the message,
// and reported by the leader; it takes no lock. Entries without a usable
// job-id, and later entries repeating a job-id, are not assigned; Assign
// logs them as EventSkipped. A report of an invalid request fills what the
// request lacked (job-type backup, storage-interface s3, Mask for bucket
// and credentials) so that it stays valid for the provider schema.
//
// # History clears and garbage collection
//
// Units report only the jobs the requirer still lists. The leader removes
// from the table the jobs the requirer no longer lists, except those still
// holding a lock: a released or running job dropped by the requirer stays
// (and keeps blocking a restore) until its unit reports it terminal or
// departs. A unit never starts a job the requirer no longer lists; it
// reports it to the leader as error (MsgNotListed) so its lock is freed.
//
// # Tested invariants
//
// A seeded simulator (sim_test.go) plays the requirer (backups, restores,
// invalid entries, history clears, drops of running jobs), the leader, the
// units with their runners and hook lag, joins and departures (the leader's
// too), leadership moving between live units, unit hooks that fail after
// starting jobs, over 4 runs of at least 10,000 events, and checks after every
// event: no restore runs beside another job; every job starts at most once,
// on one unit; a running job holds its lock in the table even when the
// requirer dropped it; exactly one unit reports each listed job, whose
// terminal status never changes, and a job no unit reports is waiting or
// released; the first waiting restore starts within a fixed number of
// events even while backups keep coming; at the end every job is terminal
// and the table holds nothing else.
//
// # Credentials
//
// The table and the peer reports hold no storage configuration. Start holds
// the requested jobs with their credentials, for the runner only; Reports
// hold them masked with dbbackup.Mask.
package provider
