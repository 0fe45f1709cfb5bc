// Package artefact turns the stream of a database engine into a backup in
// an object store, and a backup back into a stream, and owns everything
// about a backup once its bytes leave the engine.
//
// It owns the locations of backups, in one type: Ref. A backup lives in
// its own folder, "<scope>/<job-id>/", under the storage path. NewRef
// builds and validates a Ref (its errors name the scope or the job id);
// Ref.Path is the folder's key prefix, and with the storage path in front
// (Ref.Under) it is the artefact-path reported on the relation, a prefix
// from the bucket's root; ParseRef reads an artefact-path back, RefOf
// finds the backup whose folder holds a key, and Ref.IndexKey is the
// backup's entry in its scope's index ("<scope>/_index/<job-id>", a copy
// of its manifest); a complete backup's card is a folder whose name
// carries its summary ("<scope>/_cards/<job-id>~<summary>/"), so a listing
// reads no object. No caller builds a key by hand.
//
// It owns the manifest. The manifest is the commit point of a backup: it
// is written last and records the engine, the versions, the sizes, the
// algorithms and the SHA-256 of every stored object and of the raw stream.
// An artefact without its manifest is not a backup.
//
// It owns the streaming pipeline. Backup compresses what the engine writes
// with zstd and cuts it into frames, each sealed on its own (CRC-32C, or
// AES-256-GCM under a key), and uploads them as they are made; Restore and
// RestoreInto read them back, checking every frame before its bytes reach
// the database tool, and check the whole stream against the manifest at
// its end.
//
// It owns verification and listing. Verify reads every part of a backup
// and checks it against its manifest, without a database. List returns the
// backups of a store, complete or not, newest first; it lists the cards so
// that a listing stays fast, but the objects stay the truth: a lost or
// damaged card or index entry hides no backup.
//
// It stores the continuous logs point-in-time recovery replays (PostgreSQL's
// WAL, MariaDB's binary logs): one self-contained object per file under
// "<scope>/_logs/<stream>/", framed, compressed and sealed like a backup's
// parts and ending in a sealed trailer that names the file and records its
// size and SHA-256, so an object that is damaged, truncated, moved to another
// name or (under a key) not written with the key is refused (PutLog, GetLog,
// VerifyLog, ListLogs, DeleteLog). Which files a recovery needs, and in which
// order, is the engine's business.
//
// It deletes exactly one backup at a time. Delete removes one backup
// folder, its index entry first and its start marker last, and refuses a
// prefix that holds other backups. Uploads and AbortUploads find and abort
// the unfinished multipart uploads a backup killed midway left behind,
// which no listing of objects shows.
package artefact
