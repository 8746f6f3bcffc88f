# pg_dump / restore round trip. A database holds several users' sessions (database roles
# and PostgREST-style JWT users, private, organization and public), several snapshots each,
# some pruned by cleanup_old_snapshots(), with the extension in its own schema. It is dumped
# in plain format (restored with psql) and in custom format (restored with pg_restore) into
# fresh databases. In both copies: every snapshot restores to the same state (md5 of the
# text, through get_snapshot), every session row and counter is equal, the policies, RLS
# flags, grants and triggers are equal, each user sees what they saw, and the next save of
# every session gets the next number.
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SessionCheck qw(check_sessions save_probes);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "log_statement = none\n");
$node->start;

my $schema = 'agents';
$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql('source', qq{
CREATE ROLE alice;
CREATE ROLE bob;
CREATE ROLE authenticated;
CREATE ROLE anon;
CREATE SCHEMA $schema;
CREATE EXTENSION session_persist SCHEMA $schema;
GRANT USAGE ON SCHEMA $schema TO PUBLIC;
-- What Supabase's default privileges do for its client roles: the policies and the guard
-- trigger, not the grants, keep them from writing counters and the chain.
GRANT ALL ON ALL TABLES IN SCHEMA $schema TO authenticated, anon;
});

# Every user saves a different number of states of different shapes into their sessions.
$node->safe_psql('source', qq{
SET search_path = $schema;
SET ROLE alice;
INSERT INTO free_agent_sessions (id, name, model, metadata) VALUES
  ('00000000-0000-0000-0000-0000000a0001', 'notes', 'model-a', '{"tags": ["x", "y"]}'),
  ('00000000-0000-0000-0000-0000000a0002', 'research', NULL, '{}');
SELECT count(*) FROM generate_series(1, 12) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000a0001',
    jsonb_build_object('turn', g, 'text', 'caf' || chr(233) || ' "quoted" back\\slash ' || chr(10) || g,
                       'messages', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || i))
                                      FROM generate_series(1, g) i)),
    p_metadata => jsonb_build_object('trigger', 'auto'));
SELECT count(*) FROM generate_series(1, 5) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000a0002',
    jsonb_build_object('turn', g, 'blob', (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 400) i)));
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000a0001', 4);
RESET ROLE;

SET session_persist.organization_id = 'org-b'; -- superuser-set: a role cannot name its organization
SET ROLE bob;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-0000000b0001', 'team plan', 'organization');
SELECT count(*) FROM generate_series(1, 3) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000b0001', jsonb_build_object('step', g, 'nested', jsonb_build_object('a', jsonb_build_array(1, 2.5, true, null))));
RESET ROLE;
RESET session_persist.organization_id;

BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-1","role":"authenticated","org_id":"org-a"}', true);
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000010001', 'u1 private', 'private'),
  ('00000000-0000-0000-0000-000000010002', 'u1 public', 'public');
SELECT count(*) FROM generate_series(1, 8) g, (VALUES ('00000000-0000-0000-0000-000000010001'::uuid),
                                                      ('00000000-0000-0000-0000-000000010002')) v(id),
  LATERAL create_session_snapshot(v.id, jsonb_build_object('g', g, 'session', v.id));
SELECT cleanup_all_snapshots(3);
COMMIT;

BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-2","role":"authenticated"}', true);
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000020001', 'empty');
COMMIT;
});

# What each kind of caller sees, as one text per caller.
my %callers = (
	superuser => '',
	alice     => 'SET ROLE alice;',
	bob       => 'SET session_persist.organization_id = \'org-b\'; SET ROLE bob;',
	user1     => q{SET ROLE authenticated; SET request.jwt.claims = '{"sub":"user-1","org_id":"org-a"}';},
	user3_org => q{SET ROLE authenticated; SET request.jwt.claims = '{"sub":"user-3","org_id":"org-b"}';},
	anonymous => q{SET ROLE anon; SET request.jwt.claims = '{"role":"anon"}';},
);

sub fingerprint
{
	my ($db) = @_;
	my %f;
	$f{catalog} = $node->safe_psql($db, qq{
SELECT 'policy', schemaname, tablename, policyname, permissive, roles, cmd, qual, with_check
  FROM pg_policies WHERE schemaname = '$schema' ORDER BY tablename, policyname;
SELECT 'relation', relname, relkind, relrowsecurity, relforcerowsecurity, relacl, reloptions
  FROM pg_class WHERE relnamespace = '$schema'::regnamespace AND relkind IN ('r', 'v', 'i')
 ORDER BY relname;
SELECT 'column acl', attrelid::regclass, attname, attacl FROM pg_attribute
 WHERE attrelid = '$schema.free_agent_sessions'::regclass AND attacl IS NOT NULL ORDER BY attnum;
SELECT 'trigger', tgrelid::regclass, tgname, tgenabled, tgfoid::regproc FROM pg_trigger
 WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE '$schema.%' ORDER BY 2, 3;
SELECT 'function', p.oid::regprocedure, p.proacl, p.prosecdef, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = '$schema'::regnamespace ORDER BY 2::text;
SELECT 'extension', extname, extversion, extnamespace::regnamespace, extcondition FROM pg_extension
 WHERE extname = 'session_persist';
});
	$f{sessions} = $node->safe_psql($db, qq{
SELECT s::text FROM $schema.free_agent_sessions s ORDER BY id;
});
	$f{snapshots} = $node->safe_psql($db, qq{
SET search_path = $schema;
SELECT c.session_id, c.snapshot_number, c.id, c.kind, c.base_number, c.snapshot_size,
       c.stored_bytes, c.created_at, c.metadata, encode(c.state_hash, 'hex'), c.user_id,
       c.organization_id, md5(g.snapshot_data::text)
  FROM session_snapshot_chain c, LATERAL get_snapshot(c.session_id, c.snapshot_number) g
 ORDER BY 1, 2;
});
	$f{messages} = $node->safe_psql($db, qq{
SELECT m::text FROM $schema.session_messages m ORDER BY session_id, message_order;
});
	for my $caller (sort keys %callers)
	{
		$f{"seen by $caller"} = $node->safe_psql($db, qq{
SET search_path = $schema;
$callers{$caller}
SELECT 'list', id, name, snapshot_count, latest_snapshot_number FROM sessions_list ORDER BY id;
SELECT 'snapshot', session_id, snapshot_number, md5(snapshot_data::text) FROM session_snapshots ORDER BY 2, 3;
SELECT 'latest', id, md5(get_latest_snapshot(id)::text) FROM sessions_list ORDER BY id;
});
	}
	return \%f;
}

my $source = fingerprint('source');
like($source->{snapshots}, qr/00000000-0000-0000-0000-0000000a0001\|9\|/,
	'the source holds pruned sessions (alice kept snapshots 9..12)');
unlike($source->{snapshots}, qr/00000000-0000-0000-0000-0000000a0001\|8\|/,
	'the source holds pruned sessions (snapshot 8 is gone)');
like($source->{'seen by user3_org'}, qr/team plan/, 'organization sessions are shared in the source');
unlike($source->{'seen by anonymous'}, qr/u1 private|notes/, 'an anonymous caller sees public sessions only');

my $dumps = $node->basedir . '/dumps';
mkdir $dumps;
$node->command_ok([ 'pg_dump', '-d', $node->connstr('source'), '-Fp', '-f', "$dumps/plain.sql" ],
	'pg_dump, plain format');
$node->command_ok([ 'pg_dump', '-d', $node->connstr('source'), '-Fc', '-f', "$dumps/custom.dump" ],
	'pg_dump, custom format');

$node->safe_psql('postgres', 'CREATE DATABASE from_plain');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('from_plain'), '-f', "$dumps/plain.sql" ],
	'the plain dump restores with psql, without an error');
$node->safe_psql('postgres', 'CREATE DATABASE from_custom');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('from_custom'), "$dumps/custom.dump" ],
	'the custom dump restores with pg_restore, without an error');

for my $copy (qw(from_plain from_custom))
{
	my $restored = fingerprint($copy);
	for my $part (sort keys %$source)
	{
		is($restored->{$part}, $source->{$part}, "$copy: $part equal to the source");
	}
	check_sessions($node, $copy, schema => $schema, label => "$copy");
	my %recorded;
	save_probes($node, $copy, $schema, \%recorded, "$copy saves");
	check_sessions($node, $copy, schema => $schema, recorded => \%recorded,
		label => "$copy after new saves");

	# The guard trigger and the policies still protect the counters and the chain in the
	# copy, from a client granted ALL.
	my ($ret, $out, $err) = $node->psql($copy, qq{
$callers{user1}
UPDATE $schema.free_agent_sessions SET snapshot_count = 0 WHERE id = '00000000-0000-0000-0000-000000010001';
});
	like($err, qr/snapshot_count.*maintained by session_persist/,
		"$copy: a client granted ALL still cannot rewrite its counters");
	($ret, $out, $err) = $node->psql($copy, qq{
$callers{user1}
DELETE FROM $schema.session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-000000010001';
SELECT snapshot_count FROM $schema.free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000010001';
});
	is($out, '4', "$copy: nor delete its snapshots directly (the 3 kept and the new one remain)");
}

$node->stop;
done_testing();
