# Upgrades keep every session. A database gets the frozen 1.0 release
# (sql/released/session_persist--1.0.sql), is filled by two database roles and two JWT users
# (private, organization and public sessions, keyframes and deltas, pruned chains, message
# history), then runs ALTER EXTENSION session_persist UPDATE. Afterwards every snapshot
# restores to the state it had before, verify_session is clean, each caller sees what they
# saw, the next save gets the next number, and the updated extension is the same, object for
# object, as a fresh install of the current version (so an upgrade script cannot forget a
# change made to sql/install/).
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SessionCheck qw(check_sessions save_probes);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'session_persist'});
my $oldest = '1.0';

$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', q{
CREATE ROLE alice; CREATE ROLE bob; CREATE ROLE authenticated; CREATE ROLE anon;
});
$node->safe_psql('upgraded', qq{
CREATE EXTENSION session_persist VERSION '$oldest';
GRANT ALL ON ALL TABLES IN SCHEMA public TO authenticated, anon;
});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'session_persist'}),
	$oldest, "the frozen $oldest release installs");

# Two database roles and two JWT users fill the old release.
$node->safe_psql('upgraded', q{
SET ROLE alice;
INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-0000000a0001', 'alice private'),
  ('00000000-0000-0000-0000-0000000a0002', 'alice public');
UPDATE free_agent_sessions SET visibility = 'public' WHERE id = '00000000-0000-0000-0000-0000000a0002';
SELECT count(*) FROM generate_series(1, 30) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000a0001',
    jsonb_build_object('turn', g, 'memory', jsonb_build_object('facts',
        (SELECT jsonb_object_agg('k' || i, i * g % 7) FROM generate_series(1, 40) i)),
      'messages', (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN i % 2 = 0 THEN 'assistant' ELSE 'user' END,
                                                       'content', 'message ' || i))
                     FROM generate_series(1, g) i)));
SELECT count(*) FROM generate_series(1, 6) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000a0002', jsonb_build_object('g', g));
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000a0001', 12);
SELECT count(*) FROM append_session_messages('00000000-0000-0000-0000-0000000a0002',
  '[{"role":"user","content":"hello"},{"role":"assistant","content":"hi"}]');
RESET ROLE;
SET ROLE bob;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000b0001', 'bob private');
SELECT count(*) FROM generate_series(1, 4) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000b0001', jsonb_build_object('step', g));
RESET ROLE;
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-1","role":"authenticated","org_id":"org-a"}', true);
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000010001', 'u1 org', 'organization');
SELECT count(*) FROM generate_series(1, 5) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-000000010001', jsonb_build_object('g', g, 'x', repeat('y', g * 100)));
COMMIT;
});

my $states_sql = q{
SELECT c.session_id, c.snapshot_number, md5(g.snapshot_data::text)
  FROM session_snapshot_chain c, LATERAL get_snapshot(c.session_id, c.snapshot_number) g
 ORDER BY 1, 2;
SELECT session_id, message_order, role, content FROM session_messages ORDER BY 1, 2;
};
my %callers = (
	alice => 'SET ROLE alice;',
	bob   => 'SET ROLE bob;',
	user1 => q{SET ROLE authenticated; SET request.jwt.claims = '{"sub":"user-1","org_id":"org-a"}';},
	user2_same_org => q{SET ROLE authenticated; SET request.jwt.claims = '{"sub":"user-2","org_id":"org-a"}';},
	anonymous => q{SET ROLE anon; SET request.jwt.claims = '{"role":"anon"}';},
);
sub seen
{
	my %seen;
	for my $caller (sort keys %callers)
	{
		$seen{$caller} = $node->safe_psql('upgraded', qq{
$callers{$caller}
SELECT 'list', id, name, snapshot_count FROM sessions_list ORDER BY id;
SELECT 'latest', id, md5(get_latest_snapshot(id)::text) FROM sessions_list ORDER BY id;
});
	}
	return \%seen;
}
my $before = $node->safe_psql('upgraded', $states_sql);
my $seen_before = seen();
like($seen_before->{bob}, qr/alice public/, 'before: bob sees alice\'s public session');
unlike($seen_before->{bob}, qr/alice private/, 'before: bob does not see alice\'s private session');

$node->safe_psql('upgraded', 'ALTER EXTENSION session_persist UPDATE');
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'session_persist'}),
	$current, "ALTER EXTENSION UPDATE reaches $current");

is($node->safe_psql('upgraded', $states_sql), $before,
	'after the update every snapshot restores to the same state, and the history is the same');
my $seen_after = seen();
for my $caller (sort keys %callers)
{
	is($seen_after->{$caller}, $seen_before->{$caller}, "after the update $caller sees what they saw");
}
check_sessions($node, 'upgraded', label => 'upgraded');
my %recorded;
save_probes($node, 'upgraded', 'public', \%recorded, 'saves after the update');
check_sessions($node, 'upgraded', recorded => \%recorded, label => 'upgraded, after new saves');

# The updated extension and a fresh install of the current version are the same objects.
$node->safe_psql('fresh', q{
CREATE EXTENSION session_persist;
GRANT ALL ON ALL TABLES IN SCHEMA public TO authenticated, anon;
});
my $objects = q{
SELECT pg_describe_object(classid, objid, objsubid) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'session_persist')
 ORDER BY 1;
SELECT 'policy', tablename, policyname, permissive, roles, cmd, qual, with_check
  FROM pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname;
SELECT 'relation', relname, relkind, relrowsecurity, relforcerowsecurity, relacl, reloptions
  FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY relname;
SELECT 'column', attrelid::regclass, attnum, attname, atttypid::regtype, attnotnull,
       pg_get_expr(d.adbin, d.adrelid), attacl
  FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
   AND attnum > 0 AND NOT attisdropped ORDER BY attrelid::regclass::text, attnum;
SELECT 'index', indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
 ORDER BY indexrelid::regclass::text;
SELECT 'constraint', conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text, conname;
SELECT 'trigger', tgrelid::regclass, tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger
 WHERE NOT tgisinternal ORDER BY tgrelid::regclass::text, tgname;
SELECT 'event trigger', evtname, evtevent, evtenabled, evttags, evtfoid::regproc FROM pg_event_trigger ORDER BY 2;
SELECT 'function', p.oid::regprocedure, p.proacl, p.prosecdef, p.proconfig, p.provolatile,
       p.proparallel, p.proisstrict, md5(p.prosrc), p.probin
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY p.oid::regprocedure::text;
SELECT 'view', c.relname, md5(pg_get_viewdef(c.oid)) FROM pg_class c
 WHERE relnamespace = 'public'::regnamespace AND relkind = 'v' ORDER BY 2;
SELECT 'type', t.typname, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)
  FROM pg_type t WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'c') ORDER BY 2;
SELECT 'comment', pg_describe_object(classoid, objoid, objsubid), md5(description) FROM pg_description
 WHERE objoid IN (SELECT objid FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e')
 ORDER BY 2;
SELECT 'config', extcondition, array_length(extconfig, 1) FROM pg_extension WHERE extname = 'session_persist';
};
my $fresh = $node->safe_psql('fresh', $objects);
my $updated = $node->safe_psql('upgraded', $objects);
is($updated, $fresh, "the updated extension has the same objects as a fresh $current install");
if ($updated ne $fresh)
{
	my @u = split /\n/, $updated;
	my @f = split /\n/, $fresh;
	my %in_f = map { $_ => 1 } @f;
	my %in_u = map { $_ => 1 } @u;
	diag("only after the update: $_") for grep { !$in_f{$_} } @u;
	diag("only in a fresh install: $_") for grep { !$in_u{$_} } @f;
}

$node->stop;
done_testing();
