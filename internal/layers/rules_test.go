package layers

// The layering rule: which module packages and third-party modules each
// package of the module may import. The standard library is always
// allowed. The rows mirror DESIGN.md's "Packages" table; docs/architecture.md
// ("Layers") states the same rule in words.

// leaves are small mechanisms every layer may use. bytesize is here because
// bounded, a leaf, is built on it.
var leaves = []string{"internal/secret", "internal/bounded", "internal/bytesize"}

// rule is one row of the table: a package (or, ending in "/...", a package
// and everything below it) and what its non-test files may import.
type rule struct {
	pkg string
	// mod lists the module packages allowed (same pattern syntax), besides
	// the leaves.
	mod []string
	// ext lists the third-party import path prefixes allowed.
	ext []string
}

// all stands for every library package of the module: the top of the
// table may use everything below it.
var all = []string{
	"dbbackup/...", "engine/...", "artefact", "pitr", "store/...", "runner",
	"backupagent", "manager", "metrics", "jujusim/...", "charmpack", "interface/v0", "internal/...",
}

var rules = []rule{
	{pkg: "interface/v0"},
	{pkg: "internal/layers"},
	{pkg: "internal/secret"},
	{pkg: "internal/bytesize"},
	{pkg: "internal/bounded"},
	{pkg: "internal/flock"},
	{pkg: "internal/jujuexec"},
	// The one seam through which the simulator reaches the charms' mains.
	{pkg: "internal/charmenv"},
	// One background process per folder: the runner and the ticker.
	{pkg: "internal/daemon", mod: []string{"internal/flock", "internal/jujuexec"}},
	// The Juju command-line rules the docs' juju lines are checked with.
	{pkg: "internal/jujucli"},
	// make test's summary of go test -json.
	{pkg: "scripts/testsum"},
	{pkg: "internal/bagfile", ext: []string{"go.yaml.in/yaml/v3"}},
	// golang.org/x/text is part of the validator's API: its errors are
	// worded through a message.Printer.
	{pkg: "dbbackup", mod: []string{"interface/v0"}, ext: []string{"github.com/santhosh-tekuri/jsonschema/v6", "golang.org/x/text"}},
	{pkg: "dbbackup/provider", mod: []string{"dbbackup"}},
	{pkg: "dbbackup/requirer", mod: []string{"dbbackup"}, ext: []string{"github.com/robfig/cron/v3"}},
	{pkg: "engine"},
	{pkg: "engine/internal/tool", mod: []string{"engine"}},
	// The WAL archiver's periodic slot query runs in-process (pgconn), not
	// through a psql process (docs/architecture.md, item 18).
	{pkg: "engine/postgres", mod: []string{"engine", "engine/internal/tool"}, ext: []string{"github.com/jackc/pgx/v5/pgconn"}},
	{pkg: "engine/mysql", mod: []string{"engine", "engine/internal/tool"}},
	{pkg: "store"},
	{pkg: "store/memstore", mod: []string{"store"}},
	{pkg: "store/storetest", mod: []string{"store"}},
	// The S3 backend is configured by the s3 interface's fields, which the
	// wire model owns (dbbackup.StorageConfig and its Credentials): one type
	// for one fact, at the bottom of the table, instead of a copy and a
	// converter in every composition root.
	{pkg: "store/s3", mod: []string{"store", "dbbackup"}, ext: []string{"github.com/minio/minio-go/v7"}},
	// protowire: the wire format of the summary a backup's card carries.
	{pkg: "artefact", mod: []string{"engine", "store"}, ext: []string{"github.com/klauspost/compress", "google.golang.org/protobuf/encoding/protowire"}},
	{pkg: "pitr", mod: []string{"engine/...", "artefact", "store"}},
	{pkg: "runner", mod: []string{"dbbackup", "dbbackup/provider", "internal/flock"}},
	// The observability building blocks: the wire model's vocabulary for
	// labels, Prometheus's client for the exposition, xz for the cos_agent
	// dashboard encoding, YAML for the rule files.
	{pkg: "metrics", mod: []string{"dbbackup", "dbbackup/provider"}, ext: []string{"github.com/prometheus/client_golang", "github.com/ulikunitz/xz", "go.yaml.in/yaml/v3"}},
	{pkg: "backupagent", mod: []string{"dbbackup/...", "engine/...", "artefact", "pitr", "store/...", "runner", "metrics", "internal/flock", "internal/jujuexec", "internal/daemon"}, ext: []string{"github.com/gruyaume/goops"}},
	// The requirer side as a library: everything the provider library may
	// use but the provider library itself.
	{pkg: "manager", mod: []string{"dbbackup/...", "engine/...", "artefact", "pitr", "store/...", "runner", "metrics", "internal/jujuexec", "internal/daemon"}, ext: []string{"github.com/gruyaume/goops", "go.yaml.in/yaml/v3"}},
	{pkg: "charmpack", ext: []string{"go.yaml.in/yaml/v3"}},
	{pkg: "jujusim/wire"},
	// The model in a box packs the charms it runs (charmpack) and checks
	// their metadata; it never imports charm code.
	{pkg: "jujusim", mod: []string{"jujusim/wire", "charmpack"}, ext: []string{"go.yaml.in/yaml/v3", "github.com/santhosh-tekuri/jsonschema/v6"}},
	// The test kit: real servers and databases, the demo's steps.
	{pkg: "internal/testenv", mod: []string{"dbbackup"}, ext: []string{"github.com/minio/minio-go/v7"}},
	// The end-to-end tests: test files only, on the kit's model in a box.
	{pkg: "charms/e2e"},
	{pkg: "internal/testenv/model", mod: []string{"dbbackup/...", "runner", "jujusim/...", "internal/testenv"}},
	// The conformance kit of the interface: the test kit's model and
	// servers, the wire model to check what charms write.
	{pkg: "charms/conformance", mod: []string{"dbbackup/...", "jujusim/...", "internal/testenv/..."}},
	// The top: charms and commands may use every library below them, never
	// each other.
	{pkg: "charms/database-backup-agent", mod: all, ext: []string{"github.com/gruyaume/goops"}},
	{pkg: "charms/database-backup-manager", mod: all, ext: []string{"github.com/gruyaume/goops"}},
	{pkg: "cmd/...", mod: all, ext: []string{"go.yaml.in/yaml/v3"}},
	{pkg: "bench"},
}

// exception is one import the table forbids that the code still makes.
// Each names its reason and the step that removes it; a test fails on any
// import that is neither allowed nor listed here, and on an exception the
// code no longer needs, so the list only shrinks.
type exception struct {
	from, to string
	reason   string
}

var exceptions = []exception{}

// testKit is what test files of any package may import besides what the
// package itself may: real servers, fakes and the store conformance suite.
var testKit = []string{"internal/testenv", "store/memstore", "store/storetest"}

// testForbidden is what test files of a lower layer must never import: the
// libraries and tools above the runner. Tests of lower layers may compose
// real backends (an artefact test against real S3) but not the sides.
var testForbidden = []string{"backupagent", "charms/...", "jujusim/...", "internal/testenv/model", "cmd/..."}

// testStrict lists the packages whose tests are held to testForbidden.
var testStrict = []string{"dbbackup/...", "engine/...", "artefact", "pitr", "store/...", "runner", "metrics", "internal/secret", "internal/bounded", "internal/bytesize", "internal/flock"}
