package provider_test

import (
	"fmt"

	"github.com/dbbackup/dbbackup/dbbackup"
	"github.com/dbbackup/dbbackup/dbbackup/provider"
)

// Example walks one backup through the hooks of a one-unit provider: the
// leader releases it, the unit acknowledges it, the leader clears it, the
// unit starts it, the runner finishes it, the leader records the outcome,
// and only then does the requirer see it terminal.
func Example() {
	requested := dbbackup.ParseJobs(`[{"job-id":"b1","job-type":"backup","job-config":{"compression":true},
		"storage-interface":"s3","storage-config":{"bucket":"bk","access-key":"AK","secret-key":"SK"}}]`, dbbackup.Requirer)
	var tableText, peerText string // the peer app databag, the unit's peer databag
	runner := map[string]provider.RunState{}

	leaderHook := func() {
		table, _ := provider.ParseAssignments(tableText)
		peer, _ := provider.ParseReports(peerText)
		plan := provider.Assign(provider.LeaderInput{Leader: "db/0", Units: []string{"db/0"}, Requested: requested,
			Table: table, Reports: map[string][]provider.Report{"db/0": peer}})
		for _, e := range plan.Events {
			fmt.Println("leader:", e)
		}
		tableText = plan.Table.Marshal()
	}
	unitHook := func() {
		table, _ := provider.ParseAssignments(tableText)
		in := provider.UnitInput{Unit: "db/0", Requested: requested, Table: table, Runner: runner}
		d := provider.UnitPlan(in)
		for _, j := range d.Start {
			fmt.Println("unit: start", j.ID)
			runner[j.ID] = provider.RunState{Type: j.Type, Status: dbbackup.Running}
		}
		d = provider.UnitPlan(in)
		peerText = provider.MarshalReports(d.Peer)
		text, _ := dbbackup.MarshalJobs(d.Reports, dbbackup.Provider)
		fmt.Println("unit: peer", peerText)
		fmt.Println("unit: reports", text)
	}

	leaderHook()
	unitHook()
	leaderHook()
	unitHook()
	runner["b1"] = provider.RunState{Type: dbbackup.Backup, Status: dbbackup.Success, ArtefactPath: "bk/b1/"}
	unitHook()
	leaderHook()
	unitHook()
	// Output:
	// leader: new job "b1": backup
	// leader: released job "b1" unit db/0: backup
	// unit: peer {"version":1,"reports":[{"job-id":"b1","job-type":"backup","status":"accepted"}]}
	// unit: reports []
	// leader: started job "b1" unit db/0: the unit acknowledged the job; it may start it
	// unit: start b1
	// unit: peer {"version":1,"reports":[{"job-id":"b1","job-type":"backup","status":"running"}]}
	// unit: reports [{"job-config":{"compression":true},"job-id":"b1","job-type":"backup","status":"running","storage-config":{"access-key":"***","bucket":"bk","secret-key":"***"},"storage-interface":"s3"}]
	// unit: peer {"version":1,"reports":[{"job-id":"b1","job-type":"backup","status":"success","artefact-path":"bk/b1/"}]}
	// unit: reports [{"job-config":{"compression":true},"job-id":"b1","job-type":"backup","status":"running","storage-config":{"access-key":"***","bucket":"bk","secret-key":"***"},"storage-interface":"s3"}]
	// leader: finished job "b1" unit db/0: success
	// unit: peer {"version":1,"reports":[{"job-id":"b1","job-type":"backup","status":"success","artefact-path":"bk/b1/"}]}
	// unit: reports [{"artefact-path":"bk/b1/","job-config":{"compression":true},"job-id":"b1","job-type":"backup","status":"success","storage-config":{"access-key":"***","bucket":"bk","secret-key":"***"},"storage-interface":"s3"}]
}
