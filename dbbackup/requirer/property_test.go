package requirer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/requirer"
)

// The property test plays random sequences of events against the manager's
// decisions: requests, provider reports (running, success, error, from two
// units, stale, unknown), unit joins and departures, history clears and
// time jumps past the lost timeout. After every event it checks:
//   - a terminal status, once recorded, never changes (nor its finish time);
//   - a requested job leaves the history only after it was terminal;
//   - the history never holds a job the manager did not request;
//   - clearing the history never removes a waiting or running job;
//   - the relation jobs are bounded by the limit and all pending;
//   - the history is valid, round-trips and holds no credential.
// At the end every unit departs and time passes: every requested job must
// then have exactly one terminal status.

const (
	propEvents = 10_000
	propLimit  = 6
)

func TestPropertyRandomEvents(t *testing.T) {
	cases := []struct {
		seed      uint64
		clearOdds int // a clear happens on 1 in clearOdds of its chances
		keep      int // compact to this many terminal records after each merge; 0: only Merge's own bound
	}{{1, 4, 0}, {2, 4, 0}, {3, 40, 60}, {20261125, 1 << 30, 150}}
	for _, c := range cases {
		seed := c.seed
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			s := newSim(t, seed)
			s.clearOdds, s.keep = c.clearOdds, c.keep
			for i := range propEvents {
				s.step(i)
			}
			s.finish()
			if c.keep > 0 && !s.compacted {
				t.Errorf("history never compacted: compaction not exercised")
			}
			t.Logf("seed %d: %d requested, %d success, %d error, %d lost, %d cleared, %d ignored reports, history %d records, compacted %v",
				seed, len(s.requested), s.count(dbbackup.Success), s.count(dbbackup.Error), s.count(dbbackup.Lost), s.cleared, s.ignored, len(s.h.Records), s.compacted)
		})
	}
}

// sim is the model: the manager's history and each provider unit's report.
type sim struct {
	t         *testing.T
	rng       *rand.Rand
	now       time.Time
	h         requirer.History
	apps      []string
	live      map[string][]string                // app -> live units
	next      map[string]int                     // app -> next unit number
	reports   map[string]map[string]dbbackup.Job // unit -> job id -> its report
	requested map[string]string                  // job id -> app
	order     []string                           // job ids in request order
	final     map[string]requirer.Record         // job id -> record when first terminal
	gone      map[string]bool                    // terminal jobs removed by clear or compaction
	cleared   int
	ignored   int
	compacted bool // the history was compacted
	clearOdds int
	keep      int
}

func newSim(t *testing.T, seed uint64) *sim {
	s := &sim{
		t: t, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), now: t0,
		apps: []string{"mysql", "pg"}, live: map[string][]string{}, next: map[string]int{},
		reports: map[string]map[string]dbbackup.Job{}, requested: map[string]string{},
		final: map[string]requirer.Record{}, gone: map[string]bool{},
	}
	for _, app := range s.apps {
		s.join(app)
		s.join(app)
	}
	return s
}

func (s *sim) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.rng.Uint32())
	}
	return len(p), nil
}

func (s *sim) pick(n int) int { return s.rng.IntN(n) }

func (s *sim) join(app string) {
	u := fmt.Sprintf("%s/%d", app, s.next[app])
	s.next[app]++
	s.live[app] = append(s.live[app], u)
	s.reports[u] = map[string]dbbackup.Job{}
}

func (s *sim) randomUnit(app string) (string, bool) {
	us := s.live[app]
	if len(us) == 0 {
		return "", false
	}
	return us[s.pick(len(us))], true
}

// step plays one random event, then merges and checks.
func (s *sim) step(i int) {
	app := s.apps[s.pick(len(s.apps))]
	s.now = s.now.Add(time.Duration(s.pick(120)) * time.Second)
	switch r := s.pick(100); {
	case r < 30:
		s.request(app)
	case r < 55:
		s.pickUp(app)
	case r < 77:
		s.complete(app)
	case r < 81:
		s.secondUnit(app)
	case r < 84:
		s.stale(app)
	case r < 88:
		s.join(app)
	case r < 92:
		if len(s.live[app]) > 1 || s.pick(4) == 0 {
			s.depart(app)
		}
	case r < 96:
		s.forget(app)
	case r < 97:
		if s.pick(s.clearOdds) == 0 {
			s.clear()
		}
	case r < 98:
		s.now = s.now.Add(lostAfter + time.Duration(s.pick(7200))*time.Second)
	}
	s.merge(app)
	if i%500 == 0 {
		s.checkCodec()
	}
}

func (s *sim) request(app string) {
	typ := dbbackup.Backup
	if s.pick(6) == 0 {
		typ = dbbackup.Restore
	}
	pendingBefore := len(s.h.Pending(app))
	err := requirer.CanRequest(s.h, app, typ, propLimit)
	if s.pick(10) == 0 && pendingBefore < 3*propLimit {
		err = nil // a caller that skips CanRequest: RelationJobs must still bound the databag
	} else if err == nil && pendingBefore >= propLimit {
		s.t.Fatalf("CanRequest() accepted with %d pending (limit %d)", pendingBefore, propLimit)
	}
	switch {
	case errors.Is(err, requirer.ErrTooManyPending):
		if pendingBefore < propLimit {
			s.t.Fatalf("ErrTooManyPending with %d pending (limit %d)", pendingBefore, propLimit)
		}
		return
	case errors.Is(err, requirer.ErrRestoreRunning):
		return
	case err != nil:
		s.t.Fatalf("CanRequest() = %v", err)
	}
	rec := requirer.Record{
		JobID: requirer.NewJobID(s.now, s), Application: app, Type: typ, Source: requirer.FromAction,
		Compression: s.pick(2) == 0, Storage: requirer.StorageOf(storageConfig()), RequestedAt: s.now,
	}
	if s.pick(3) == 0 {
		rec.Source = requirer.FromSchedule
	}
	if typ == dbbackup.Restore {
		rec.ArtefactPath = "prod/" + app + "/old"
	}
	h, err := requirer.Request(s.h, rec)
	if err != nil {
		s.t.Fatalf("Request() = %v", err)
	}
	s.requested[rec.JobID] = app
	s.order = append(s.order, rec.JobID)
	prev := s.h
	s.h = h
	s.checkHistory(prev)
	if r, _ := h.Find(rec.JobID); r.Status != dbbackup.Waiting {
		s.t.Fatalf("requested job %s is %s, want waiting", rec.JobID, r.Status)
	}
}

// reported reports whether any live unit of app reports id.
func (s *sim) reported(app, id string) bool {
	for _, u := range s.live[app] {
		if _, ok := s.reports[u][id]; ok {
			return true
		}
	}
	return false
}

// pickUp: a unit starts a job the manager requests and no unit reports;
// sometimes a late unit starts a job the manager has dropped (lost).
func (s *sim) pickUp(app string) {
	u, ok := s.randomUnit(app)
	if !ok {
		return
	}
	jobs, err := requirer.RelationJobs(s.h, app, storageConfig(), propLimit)
	if err != nil {
		s.t.Fatalf("RelationJobs() = %v", err)
	}
	var candidates []dbbackup.Job
	for _, j := range jobs {
		if !s.reported(app, j.ID) {
			candidates = append(candidates, j)
		}
	}
	if len(candidates) == 0 || s.pick(20) == 0 {
		for _, id := range s.order {
			if r, ok := s.final[id]; ok && r.Application == app && r.Status == dbbackup.Lost && !s.reported(app, id) {
				j := report(id, r.Type, dbbackup.Running, "late", "")
				s.reports[u][id] = j
				return
			}
		}
		return
	}
	j := candidates[s.pick(len(candidates))]
	j.Status, j.Message = dbbackup.Running, "started"
	s.reports[u][j.ID] = j.Redacted()
}

// complete: a unit finishes one of its running jobs.
func (s *sim) complete(app string) {
	u, ok := s.randomUnit(app)
	if !ok {
		return
	}
	for _, id := range sortedIDs(s.reports[u]) {
		j := s.reports[u][id]
		if j.Status != dbbackup.Running {
			continue
		}
		if s.pick(4) == 0 {
			j.Status, j.Message = dbbackup.Error, "tool failed: exit status 1"
		} else {
			j.Status, j.Message, j.ArtefactPath = dbbackup.Success, "", "prod/"+app+"/"+id+"/"
		}
		s.reports[u][id] = j
		return
	}
}

// secondUnit: another unit reports a job some unit reports, with its own status.
func (s *sim) secondUnit(app string) {
	u, ok := s.randomUnit(app)
	if !ok {
		return
	}
	for _, v := range s.live[app] {
		if v == u {
			continue
		}
		for _, id := range sortedIDs(s.reports[v]) {
			j := s.reports[v][id]
			j.Status = []dbbackup.Status{dbbackup.Running, dbbackup.Success, dbbackup.Error}[s.pick(3)]
			s.reports[u][id] = j
			return
		}
	}
}

// stale: a unit reports a job id never requested, or of the other app, or
// running again for a job it already finished.
func (s *sim) stale(app string) {
	u, ok := s.randomUnit(app)
	if !ok {
		return
	}
	switch s.pick(3) {
	case 0:
		id := fmt.Sprintf("job-unknown-%d", s.pick(1000))
		s.reports[u][id] = report(id, dbbackup.Backup, dbbackup.Running, "", "")
	case 1:
		for _, id := range s.order[max(0, len(s.order)-20):] {
			if s.requested[id] != app {
				s.reports[u][id] = report(id, dbbackup.Backup, dbbackup.Success, "", "")
				return
			}
		}
	default:
		for _, id := range sortedIDs(s.reports[u]) {
			if j := s.reports[u][id]; j.Status.Terminal() {
				j.Status = dbbackup.Running
				s.reports[u][id] = j
				return
			}
		}
	}
}

// depart: a unit leaves; its report goes with it.
func (s *sim) depart(app string) {
	us := s.live[app]
	if len(us) == 0 {
		return
	}
	i := s.pick(len(us))
	delete(s.reports, us[i])
	s.live[app] = slices.Delete(slices.Clone(us), i, i+1)
}

// forget: a unit drops the reports of jobs the manager no longer requests.
func (s *sim) forget(app string) {
	u, ok := s.randomUnit(app)
	if !ok {
		return
	}
	for id := range s.reports[u] {
		if r, ok := s.h.Find(id); !ok || r.Status.Terminal() {
			delete(s.reports[u], id)
		}
	}
}

func (s *sim) clear() {
	before := s.h
	h, removed := requirer.ClearHistory(s.h)
	if got, want := pendingIDs(h), pendingIDs(before); !slices.Equal(got, want) {
		s.t.Fatalf("ClearHistory changed the pending jobs: %v, was %v", got, want)
	}
	if len(before.Records)-len(h.Records) != removed {
		s.t.Fatalf("ClearHistory removed %d, says %d", len(before.Records)-len(h.Records), removed)
	}
	for _, r := range h.Records {
		if r.Status.Terminal() {
			s.t.Fatalf("ClearHistory kept terminal %s", r.JobID)
		}
		if b, _ := before.Find(r.JobID); b != r {
			s.t.Fatalf("ClearHistory changed %s", r.JobID)
		}
	}
	s.cleared += removed
	s.h = h
	s.checkHistory(before)
}

func (s *sim) merge(app string) {
	reports := map[string][]dbbackup.Job{}
	for _, u := range s.live[app] {
		for _, id := range sortedIDs(s.reports[u]) {
			reports[u] = append(reports[u], s.reports[u][id])
		}
	}
	h, changes := requirer.Merge(s.h, app, reports, s.now, lostAfter)
	for _, c := range changes {
		if c.Kind == requirer.Ignored {
			s.ignored++
		}
		if strings.Contains(c.String(), "CANARY") {
			s.t.Fatalf("change holds a credential: %s", c)
		}
	}
	prev := s.h
	if s.keep > 0 {
		s.h = h
		s.checkHistory(prev) // see what Merge finished before it is compacted
		prev = h
		before := h
		var dropped int
		h, dropped = requirer.Compact(h, s.keep, requirer.MaxHistoryBytes)
		s.checkCompact(before, h, dropped)
	}
	s.h = h
	s.checkHistory(prev)
	jobs, err := requirer.RelationJobs(s.h, app, storageConfig(), propLimit)
	if err != nil {
		s.t.Fatalf("RelationJobs() = %v", err)
	}
	if len(jobs) > propLimit {
		s.t.Fatalf("RelationJobs() gave %d jobs, limit %d", len(jobs), propLimit)
	}
	for _, j := range jobs {
		if r, ok := s.h.Find(j.ID); !ok || r.Status.Terminal() || r.Application != app {
			s.t.Fatalf("relation job %s is not a pending job of %s: %+v", j.ID, app, r)
		}
	}
}

// checkCompact checks that compaction dropped only the oldest terminal
// records, kept every pending one and counted what it dropped.
func (s *sim) checkCompact(before, after requirer.History, dropped int) {
	if dropped == 0 {
		return
	}
	s.compacted = true
	if got, want := pendingIDs(after), pendingIDs(before); !slices.Equal(got, want) {
		s.t.Fatalf("Compact changed the pending jobs: %v, was %v", got, want)
	}
	if len(before.Records)-len(after.Records) != dropped {
		s.t.Fatalf("Compact dropped %d, says %d", len(before.Records)-len(after.Records), dropped)
	}
	terminal := 0
	for _, r := range after.Records {
		if r.Status.Terminal() {
			terminal++
		}
	}
	if terminal != s.keep {
		s.t.Fatalf("Compact kept %d terminal records, want %d", terminal, s.keep)
	}
	sum := func(h requirer.History) int {
		n := 0
		for _, d := range h.Dropped {
			n += d.Success + d.Error + d.Lost
		}
		return n
	}
	if sum(after)-sum(before) != dropped {
		s.t.Fatalf("Dropped counts grew by %d, want %d", sum(after)-sum(before), dropped)
	}
}

// checkHistory checks the invariants that hold after every event, for the
// history s.h that replaced prev.
func (s *sim) checkHistory(prev requirer.History) {
	for i, r := range s.h.Records {
		if i > 0 && s.h.Records[i-1].JobID >= r.JobID {
			s.t.Fatalf("records not sorted at %d", i)
		}
		if f, ok := s.final[r.JobID]; ok {
			if r.Status != f.Status || !r.FinishedAt.Equal(f.FinishedAt) || r.Unit != f.Unit {
				s.t.Fatalf("terminal job %s changed: %s by %q at %v, was %s by %q at %v",
					r.JobID, r.Status, r.Unit, r.FinishedAt, f.Status, f.Unit, f.FinishedAt)
			}
		} else if r.Status.Terminal() {
			s.final[r.JobID] = r
		}
	}
	// Walk both sorted lists: a job that left must have been terminal, a
	// job that came must have been requested.
	old, cur := prev.Records, s.h.Records
	for len(old) > 0 || len(cur) > 0 {
		switch {
		case len(cur) == 0 || (len(old) > 0 && old[0].JobID < cur[0].JobID):
			if _, ok := s.final[old[0].JobID]; !ok {
				s.t.Fatalf("job %s left the history without a terminal status (was %s)", old[0].JobID, old[0].Status)
			}
			s.gone[old[0].JobID] = true
			old = old[1:]
		case len(old) == 0 || cur[0].JobID < old[0].JobID:
			if _, ok := s.requested[cur[0].JobID]; !ok || s.gone[cur[0].JobID] {
				s.t.Fatalf("history holds %s, never requested or already gone", cur[0].JobID)
			}
			cur = cur[1:]
		default:
			old, cur = old[1:], cur[1:]
		}
	}
}

// checkCodec checks the stored form: valid, stable, without credentials.
func (s *sim) checkCodec() {
	text, err := s.h.Marshal()
	if err != nil {
		s.t.Fatalf("Marshal() = %v", err)
	}
	if strings.Contains(text, canaryAccess) || strings.Contains(text, canarySecret) {
		s.t.Fatalf("marshalled history holds a credential")
	}
	h, err := requirer.ParseHistory(text)
	if err != nil {
		s.t.Fatalf("ParseHistory(Marshal()) = %v", err)
	}
	if !reflect.DeepEqual(normalise(h), normalise(s.h)) {
		s.t.Fatalf("history does not round-trip")
	}
	if len(text) > 1<<20 {
		s.t.Fatalf("history is %d bytes, over 1 MiB", len(text))
	}
}

// finish: every unit departs and the lost timeout passes; every requested
// job must then be terminal, each with exactly one terminal status.
func (s *sim) finish() {
	for _, app := range s.apps {
		for len(s.live[app]) > 0 {
			s.depart(app)
		}
	}
	s.now = s.now.Add(lostAfter + time.Second)
	for _, app := range s.apps {
		s.merge(app)
	}
	s.checkCodec()
	for id := range s.requested {
		if _, ok := s.final[id]; !ok {
			r, _ := s.h.Find(id)
			s.t.Fatalf("job %s never reached a terminal status: %+v", id, r)
		}
	}
	for _, r := range s.h.Records {
		if !r.Status.Terminal() {
			s.t.Fatalf("job %s still %s", r.JobID, r.Status)
		}
	}
}

func (s *sim) count(st dbbackup.Status) int {
	n := 0
	for _, r := range s.final {
		if r.Status == st {
			n++
		}
	}
	return n
}

func sortedIDs(m map[string]dbbackup.Job) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func pendingIDs(h requirer.History) []string {
	var ids []string
	for _, r := range h.Records {
		if !r.Status.Terminal() {
			ids = append(ids, r.JobID)
		}
	}
	return ids
}
