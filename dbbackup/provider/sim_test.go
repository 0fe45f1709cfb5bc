package provider

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dbbackup/dbbackup/dbbackup"
)

// The simulator plays the requirer, the provider leader, its units and
// their runners, and checks the invariants of the package after every event.
const (
	simHookEvery = 4 // a unit runs a hook at least every simHookEvery events
	simMaxRun    = 6 // a started job finishes within simMaxRun events
	simMaxUnits  = 5
	// simBound is how many events the first waiting restore may wait: the
	// jobs ahead of it are acknowledged within a hook, cleared at the next
	// event, started within a hook, finish within simMaxRun and are
	// reported within a hook; then the restore is released, acknowledged,
	// cleared and started in as long. Mishaps add bounded delays: a unit
	// departure one such round (simDepartureDelay), a failed hook one hook,
	// a change of leader two events.
	simBound          = 5*simHookEvery + simMaxRun + 6
	simDepartureDelay = 2*simHookEvery + 2
)

type simConfig struct {
	seed              int64
	events            int
	maxBackupsPerUnit int
	checkBound        bool
}

type simJob struct {
	rs  RunState
	due int
}

type simUnit struct {
	name     string
	runner   map[string]*simJob
	databag  dbbackup.Databag // its database_backup unit databag
	bag      []dbbackup.Job   // the jobs of databag, as read back
	peer     string           // its peer unit databag
	peerRead []Report         // peer, as the leader reads it
	lastHook int
	// unpublished: its last hook failed after starting jobs, so they are
	// not reported until its next hook.
	unpublished bool
	// basis is the table its last published reports were computed from.
	basis map[string]Assignment
}

type sim struct {
	parsed     Assignments // s.table, read
	listLen    int         // sum of list lengths, for the log
	t          testing.TB
	cfg        simConfig
	rng        *rand.Rand
	step       int
	units      map[string]*simUnit
	leader     string
	nextUnit   int
	nextJob    int
	reqs       []dbbackup.Entry
	invalidIDs map[string]bool
	table      string                     // the peer application databag
	started    map[string]string          // job-id: the unit that started it
	final      map[string]dbbackup.Status // first terminal status the requirer saw
	quiet      bool
	head       string // the first restore not yet started
	headSince  int
	slack      int // events of delay allowed by mishaps since headSince
	stats      map[string]int
	trace      uint64
}

func newSim(t testing.TB, cfg simConfig) *sim {
	s := &sim{t: t, cfg: cfg, rng: rand.New(rand.NewSource(cfg.seed)), units: map[string]*simUnit{},
		invalidIDs: map[string]bool{}, started: map[string]string{}, final: map[string]dbbackup.Status{}, stats: map[string]int{}}
	for i := 0; i < 3; i++ {
		s.join()
	}
	s.leader = "db/0"
	return s
}

// run plays cfg.events events in busy and quiet phases, then drains.
func (s *sim) run() {
	for s.step < s.cfg.events {
		s.quiet = false
		for n := 100 + s.rng.Intn(300); n > 0 && s.step < s.cfg.events; n-- {
			s.event()
		}
		s.quiet = true
		for n := 3 * simBound; n > 0 && s.step < s.cfg.events; n-- {
			s.event()
		}
	}
	s.drain()
}

func (s *sim) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("seed %d event %d: %s\ntable: %s", s.cfg.seed, s.step, fmt.Sprintf(format, args...), s.table)
}

func (s *sim) liveUnits() []string {
	out := make([]string, 0, len(s.units))
	for u := range s.units {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

func (s *sim) list() dbbackup.List {
	return dbbackup.List{Entries: s.reqs}
}

// event plays one random event, then time passes, the leader runs a hook,
// units run theirs, and the invariants are checked.
func (s *sim) event() {
	s.step++
	s.apply(s.pick())
	s.tick()
	s.leaderHook()
	for _, u := range s.liveUnits() {
		if u != s.leader && (s.step-s.units[u].lastHook >= simHookEvery || s.rng.Intn(3) == 0) {
			s.unitHook(u)
		}
	}
	s.check()
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %s", s.trace, s.table)
	s.trace = h.Sum64()
}

func (s *sim) pick() string {
	type w struct {
		name   string
		weight int
	}
	ws := []w{{"clear", 8}, {"drop", 2}, {"join", 4}, {"depart", 4}, {"depart-leader", 1}, {"elect", 1}, {"noop", 49}}
	if !s.quiet {
		ws = append(ws, w{"backup", 22}, w{"restore", 7}, w{"invalid", 2})
	}
	total := 0
	for _, x := range ws {
		total += x.weight
	}
	n := s.rng.Intn(total)
	for _, x := range ws {
		if n < x.weight {
			return x.name
		}
		n -= x.weight
	}
	return "noop"
}

func (s *sim) apply(ev string) {
	s.stats["event-"+ev]++
	switch ev {
	case "backup", "restore":
		s.nextJob++
		t := dbbackup.Backup
		if ev == "restore" {
			t = dbbackup.Restore
		}
		s.reqs = append(s.reqs, dbbackup.Entry{Index: len(s.reqs), Job: request(fmt.Sprintf("j%05d", s.nextJob), t)})
	case "invalid":
		s.requestInvalid()
	case "clear":
		s.clearHistory()
	case "drop":
		s.dropRandom()
	case "join":
		if len(s.units) < simMaxUnits {
			s.join()
		}
	case "depart":
		if len(s.units) > 1 {
			units := s.liveUnits()
			s.depart(units[s.rng.Intn(len(units))])
		}
	case "elect": // leadership moves to another live unit
		units := s.liveUnits()
		if next := units[s.rng.Intn(len(units))]; next != s.leader {
			s.leader = next
			s.stats["leader-changes"]++
			s.slack += 2
		}
	case "depart-leader":
		if len(s.units) > 1 {
			s.depart(s.leader)
		}
	}
}

func (s *sim) requestInvalid() {
	s.nextJob++
	id := fmt.Sprintf("j%05d", s.nextJob)
	var spec string
	switch s.rng.Intn(3) {
	case 0:
		spec, s.invalidIDs[id] = "x:"+id, true
	case 1:
		spec = "n:"
	default:
		ids := index(s.list()).order
		if len(ids) == 0 {
			return
		}
		spec = "b:" + ids[s.rng.Intn(len(ids))].Job.ID
	}
	e := list(spec).Entries[0]
	for _, prev := range s.reqs {
		if e.Job.ID != "" && prev.Job.ID == e.Job.ID {
			e.Problems = append(e.Problems, dbbackup.Problem{Path: "jobs[].job-id", Msg: "duplicate"})
			break
		}
	}
	e.Index = len(s.reqs)
	s.reqs = append(s.reqs, e)
}

// view is what the requirer sees: the reports of every live unit by job-id.
func (s *sim) view() map[string][]dbbackup.Job {
	v := map[string][]dbbackup.Job{}
	for _, u := range s.liveUnits() {
		for _, j := range s.units[u].bag {
			v[j.ID] = append(v[j.ID], j)
		}
	}
	return v
}

// clearHistory drops the jobs the requirer sees terminal and the entries
// that cannot be assigned, as a history clear does.
func (s *sim) clearHistory() {
	v := s.view()
	drop := map[string]bool{}
	for id, js := range v {
		if len(js) == 1 && js[0].Status.Terminal() {
			drop[id] = true
		}
	}
	s.keep(func(e dbbackup.Entry) bool {
		return e.Job.ID != "" && !drop[e.Job.ID] && (e.Valid() || s.invalidIDs[e.Job.ID])
	})
}

// dropRandom drops a listed job whatever its state (a requirer that breaks
// the rule), preferring a job that runs.
func (s *sim) dropRandom() {
	ids := index(s.list()).order
	if len(ids) == 0 {
		return
	}
	id := ids[s.rng.Intn(len(ids))].Job.ID
	if run := s.executing(); len(run) > 0 && s.rng.Intn(2) == 0 {
		id = run[s.rng.Intn(len(run))].id
		for _, e := range ids {
			if e.Job.ID == id {
				s.stats["dropped-running-"+string(e.Job.Type)]++
			}
		}
	}
	s.keep(func(e dbbackup.Entry) bool { return e.Job.ID != id })
}

func (s *sim) keep(f func(dbbackup.Entry) bool) {
	var out []dbbackup.Entry
	for _, e := range s.reqs {
		if f(e) {
			e.Index = len(out)
			out = append(out, e)
		}
	}
	s.reqs = out
}

func (s *sim) join() {
	name := fmt.Sprintf("db/%d", s.nextUnit)
	s.nextUnit++
	s.units[name] = &simUnit{name: name, runner: map[string]*simJob{}, databag: dbbackup.Databag{}, lastHook: s.step}
}

// depart removes a unit: its runner stops with it, its databags vanish.
func (s *sim) depart(name string) {
	for _, j := range s.units[name].runner {
		if j.rs.Status == dbbackup.Running {
			s.stats["departed-while-running"]++
		}
	}
	delete(s.units, name)
	s.slack += simDepartureDelay
	if name == s.leader {
		units := s.liveUnits()
		s.leader = units[s.rng.Intn(len(units))]
		s.stats["leader-changes"]++
	}
}

// tick finishes the jobs that are due.
func (s *sim) tick() {
	for _, x := range s.executing() {
		id, j := x.id, s.units[x.unit].runner[x.id]
		{
			if j.due > s.step {
				continue
			}
			if s.rng.Intn(7) == 0 {
				j.rs.Status, j.rs.Message = dbbackup.Error, "simulated failure of "+id
			} else {
				j.rs.Status = dbbackup.Success
				if j.rs.Type == dbbackup.Backup {
					j.rs.ArtefactPath = "backups/" + id + "/"
				}
			}
		}
	}
}

// readTable returns the table as the leader last wrote it (leaderHook
// checks that the text reads back as this).
func (s *sim) readTable() Assignments { return s.parsed }

// leaderHook runs Assign, then the leader's own unit plan with the table as
// read at the start of the hook (the charm's rule: a unit never acts on a
// table its hook has not committed yet), then commits the new table. The
// leader's hooks do not fail in this model.
func (s *sim) leaderHook() {
	committed := s.readTable()
	in := LeaderInput{Leader: s.leader, Units: s.liveUnits(), Requested: s.list(), Table: committed,
		Reports: map[string][]Report{}, MaxBackupsPerUnit: s.cfg.maxBackupsPerUnit}
	s.rng.Shuffle(len(in.Units), func(i, j int) { in.Units[i], in.Units[j] = in.Units[j], in.Units[i] })
	for _, u := range in.Units {
		in.Reports[u] = s.units[u].peerRead
	}
	p := Assign(in)
	if s.step%13 == 0 {
		s.checkDeterministic(in, p)
	}
	for _, e := range p.Events {
		s.stats[string(e.Kind)]++
	}
	if text := p.Table.Marshal(); text != s.table {
		table, err := ParseAssignments(text)
		if err != nil {
			s.fatalf("cannot read the table: %v", err)
		}
		if table.Marshal() != text {
			s.fatalf("the table does not read back the same")
		}
		s.unitHookWith(s.leader, committed, false)
		s.table, s.parsed = text, table
		return
	}
	s.unitHookWith(s.leader, committed, false)
}

// checkDeterministic calls Assign again with the units in another order and
// the reports in freshly built maps: the table and events must not change.
func (s *sim) checkDeterministic(in LeaderInput, p Plan) {
	in2 := in
	in2.Units = append([]string(nil), in.Units...)
	sort.Sort(sort.Reverse(sort.StringSlice(in2.Units)))
	in2.Reports = map[string][]Report{}
	for i := len(in2.Units) - 1; i >= 0; i-- {
		u := in2.Units[i]
		rs := append([]Report(nil), in.Reports[u]...)
		s.rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		in2.Reports[u] = rs
	}
	p2 := Assign(in2)
	if p.Table.Marshal() != p2.Table.Marshal() || fmt.Sprint(p.Events) != fmt.Sprint(p2.Events) {
		s.fatalf("Assign is not deterministic:\n%s\n%s", p.Table.Marshal(), p2.Table.Marshal())
	}
}

func (u *simUnit) states() map[string]RunState {
	m := make(map[string]RunState, len(u.runner))
	for id, j := range u.runner {
		m[id] = j.rs
	}
	return m
}

func (s *sim) unitHook(name string) { s.unitHookWith(name, s.readTable(), true) }

// unitHookWith runs a unit's hook with the table it reads; a hook that may
// fail fails now and then after starting jobs.
func (s *sim) unitHookWith(name string, table Assignments, mayFail bool) {
	u := s.units[name]
	u.lastHook = s.step
	in := UnitInput{Unit: name, Requested: s.list(), Table: table, Runner: u.states()}
	d := UnitPlan(in)
	for _, j := range d.Start {
		if u.runner[j.ID] != nil {
			s.fatalf("%s was told to start %s, which its runner already knows", name, j.ID)
		}
		if prev, ok := s.started[j.ID]; ok {
			s.fatalf("%s started on %s, and before on %s", j.ID, name, prev)
		}
		if j.Storage.SecretKey != canarySecret {
			s.fatalf("%s was started without its credentials", j.ID)
		}
		s.started[j.ID] = name
		u.runner[j.ID] = &simJob{rs: RunState{Type: j.Type, Status: dbbackup.Running}, due: s.step + 1 + s.rng.Intn(simMaxRun)}
		s.stats["start-"+string(j.Type)]++
		s.checkExecution()
	}
	if len(d.Start) > 0 && mayFail && s.rng.Intn(20) == 0 {
		// The hook fails after the runner started the jobs: its databag
		// writes are not committed; the next hook reports them.
		s.stats["hook-failed-after-start"]++
		s.slack += simHookEvery
		u.unpublished = true
		return
	}
	u.unpublished = false
	if len(d.Start) > 0 {
		in.Runner = u.states()
		d = UnitPlan(in)
		if len(d.Start) > 0 {
			s.fatalf("%s was told to start %s twice", name, d.Start[0].ID)
		}
	}
	changed, err := u.databag.SetJobs(d.Reports, dbbackup.Provider)
	if err != nil {
		s.fatalf("cannot write the reports of %s: %v", name, err)
	}
	if changed {
		if text := u.databag[dbbackup.JobsKey]; strings.Contains(text, canarySecret) || strings.Contains(text, canaryAccess) {
			s.fatalf("%s reports a credential: %s", name, text)
		}
		l := u.databag.Jobs(dbbackup.Provider)
		if ps := l.AllProblems(); len(ps) > 0 {
			s.fatalf("%s reports invalid jobs: %v", name, ps)
		}
		u.bag = l.Jobs()
	}
	listed := index(in.Requested).byID
	for _, j := range u.bag {
		if _, ok := listed[j.ID]; !ok {
			s.fatalf("%s reports %s, which the requirer no longer lists", name, j.ID)
		}
	}
	if text := MarshalReports(d.Peer); text != u.peer {
		rs, err := ParseReports(text)
		if err != nil {
			s.fatalf("cannot read the peer reports of %s: %v", name, err)
		}
		u.peer, u.peerRead = text, rs
	}
	u.basis = table.byID()
	// The runner forgets the finished jobs its unit no longer has to report.
	for id, j := range u.runner {
		if a, ok := u.basis[id]; j.rs.Status != dbbackup.Running && (!ok || a.Unit != name) {
			delete(u.runner, id)
		}
	}
}

// drain lets every job finish without new requests and checks that every
// listed job ends terminal and the table holds nothing else.
func (s *sim) drain() {
	s.quiet = true
	limit := s.step + (len(s.reqs)+2)*simBound + 200
	for s.step < limit {
		s.event()
		if s.drained() {
			return
		}
	}
	s.fatalf("not drained after %d events: listed %d, running %v", limit, len(s.reqs), s.executing())
}

func TestSimulation(t *testing.T) {
	configs := []simConfig{
		{seed: 1, events: 10000, checkBound: true},
		{seed: 2, events: 10000, checkBound: true},
		{seed: 3, events: 10000, checkBound: true},
		{seed: 4, events: 10000, maxBackupsPerUnit: 2},
	}
	var mu sync.Mutex
	total := map[string]int{}
	t.Run("seeds", func(t *testing.T) {
		for _, cfg := range configs {
			t.Run(fmt.Sprintf("seed%d", cfg.seed), func(t *testing.T) {
				t.Parallel()
				s := newSim(t, cfg)
				s.run()
				if s.step < cfg.events {
					t.Fatalf("got %d events, want at least %d", s.step, cfg.events)
				}
				mu.Lock()
				defer mu.Unlock()
				for k, v := range s.stats {
					total[k] += v
				}
				t.Logf("events %d, jobs %d, mean list length %d, stats %v", s.step, s.nextJob, s.listLen/s.step, s.stats)
			})
		}
	})
	if t.Failed() {
		return
	}
	// The runs must have met every situation the invariants are about.
	for _, k := range []string{"start-backup", "start-restore", string(EventFailed), string(EventReassigned), string(EventMoved),
		string(EventInvalid), string(EventSkipped), string(EventRemoved), "leader-changes", "departed-while-running", "hook-failed-after-start",
		"dropped-running-restore", "lock-kept-for-dropped-restore", "lock-kept-for-dropped-backup", "bound-checked-restores",
		"message-unit", "message-invalid", "message-simulated"} {
		if total[k] == 0 {
			t.Errorf("no %q in any run: the simulation does not cover it", k)
		}
	}
}

func TestSimulationIsDeterministic(t *testing.T) {
	cfg := simConfig{seed: 7, events: 2000, checkBound: true}
	a, b := newSim(t, cfg), newSim(t, cfg)
	a.run()
	b.run()
	if a.trace != b.trace || a.step != b.step {
		t.Fatalf("two runs of seed %d differ", cfg.seed)
	}
}
