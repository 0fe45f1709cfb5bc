package postgres

// emptySQL opens a database's restore transaction and drops, inside it,
// everything of the database a pg_dump archive records, so that the
// archive's script then gives back exactly the backup's state: objects
// made since the backup neither block the load (a new table in a schema of
// the backup) nor survive it.
//
// It drops, in this order: event triggers (first, so none fires on the
// drops), publications, extensions (those not built in), every schema
// outside pg_catalog, information_schema and the pg_* ones (public
// included, CASCADE: with their tables, views, sequences, functions,
// types, domains, operators, collations, text search objects, statistics,
// default privileges ...), foreign servers and foreign-data wrappers,
// casts, procedural languages and access methods made by users, and every
// large object. It then makes the public schema afresh as the server's
// initdb does (owner pg_database_owner from PostgreSQL 15, the bootstrap
// superuser before, or on 14 pg_database_owner when the restoring user
// cannot give it to the superuser; USAGE for PUBLIC, plus CREATE before
// 15; the standard comment), which pg_dump records only as differences
// from that default: the script puts back any ACL or comment the backup
// had, and its owners when the load keeps them.
//
// Not covered, left as they are: subscriptions (DROP SUBSCRIPTION cannot
// run in a transaction), database-wide default privileges (ALTER DEFAULT
// PRIVILEGES without IN SCHEMA), security labels on the database, and
// everything cluster-wide (roles, tablespaces). A public schema the backup
// did not have comes back with the default: pg_dump does not record its
// absence.
//
// The restoring user must be able to drop all of it: a superuser, or the
// owner of the database and of every object in it (event triggers,
// foreign-data wrappers and languages need a superuser anyway; before
// PostgreSQL 15 the public schema belongs to the bootstrap superuser
// unless it was given to the database's owner). The drops
// take an ACCESS EXCLUSIVE lock on every object until the COMMIT: the
// restore waits for sessions that hold locks, blocks the others, and needs
// max_locks_per_transaction to hold the database's objects twice.
const emptySQL = `BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL search_path = pg_catalog;
DO $dbbackup$
DECLARE
  r record;
BEGIN
  PERFORM set_config('dbbackup.restore', 'open', true);
  FOR r IN SELECT evtname FROM pg_event_trigger LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I CASCADE', r.evtname);
  END LOOP;
  FOR r IN SELECT pubname FROM pg_publication LOOP
    EXECUTE format('DROP PUBLICATION IF EXISTS %I CASCADE', r.pubname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE oid >= 16384 LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_namespace
           WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN SELECT srvname FROM pg_foreign_server LOOP
    EXECUTE format('DROP SERVER IF EXISTS %I CASCADE', r.srvname);
  END LOOP;
  FOR r IN SELECT fdwname FROM pg_foreign_data_wrapper LOOP
    EXECUTE format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', r.fdwname);
  END LOOP;
  FOR r IN SELECT castsource::regtype AS s, casttarget::regtype AS t FROM pg_cast WHERE oid >= 16384 LOOP
    EXECUTE format('DROP CAST IF EXISTS (%s AS %s) CASCADE', r.s, r.t);
  END LOOP;
  FOR r IN SELECT lanname FROM pg_language WHERE oid >= 16384 LOOP
    EXECUTE format('DROP LANGUAGE IF EXISTS %I CASCADE', r.lanname);
  END LOOP;
  FOR r IN SELECT amname FROM pg_am WHERE oid >= 16384 LOOP
    EXECUTE format('DROP ACCESS METHOD IF EXISTS %I CASCADE', r.amname);
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;

  CREATE SCHEMA public;
  IF current_setting('server_version_num')::int >= 150000 THEN
    ALTER SCHEMA public OWNER TO pg_database_owner;
  ELSIF pg_has_role((SELECT rolname FROM pg_roles WHERE oid = 10), 'USAGE') THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %I', (SELECT rolname FROM pg_roles WHERE oid = 10));
  ELSIF current_setting('server_version_num')::int >= 140000 THEN
    -- A database owner cannot give the schema to the bootstrap superuser.
    ALTER SCHEMA public OWNER TO pg_database_owner;
  END IF;
  IF current_setting('server_version_num')::int >= 150000 THEN
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  ELSE
    GRANT USAGE, CREATE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$dbbackup$;
RESET search_path;
`

// resetDatabaseSQL clears the settings and comment of database db, inside
// the restore's transaction, before a --create script puts back those the
// backup recorded.
func resetDatabaseSQL(db string) string {
	return "ALTER DATABASE " + quoteIdent(db) + " RESET ALL;\nCOMMENT ON DATABASE " + quoteIdent(db) + " IS NULL;\n"
}
