# Shared by the TAP tests: checks that every session of a database is whole.
#
# check_sessions() restores every stored snapshot through the extension's own read paths
# (get_snapshot and the session_snapshots view), compares the counters with the rows, and
# compares every save a client saw return with what is restorable now. It is the one place
# that grows with the extension: when verify_session() exists it is called for every
# session, and message history is checked against its counters (message_count and
# gapless message_order), so the tests get stronger as the functions land.
package SessionCheck;

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use Exporter 'import';
use Test::More;

our @EXPORT_OK = qw(canonical_json check_sessions save_probes parse_saves crash_node);

# The text jsonb prints for a Perl structure: object keys ordered by length, then bytes;
# ", " and ": " separators. Keys and strings must be plain ASCII here (the caller's
# states are), so the md5 of this text equals md5(state::text) on the server.
sub canonical_json
{
	my ($v) = @_;
	if (ref $v eq 'HASH')
	{
		my @keys = sort { length($a) <=> length($b) || $a cmp $b } keys %$v;
		return '{' . join(', ', map { _string($_) . ': ' . canonical_json($v->{$_}) } @keys) . '}';
	}
	if (ref $v eq 'ARRAY')
	{
		return '[' . join(', ', map { canonical_json($_) } @$v) . ']';
	}
	return 'null' unless defined $v;
	return $$v ? 'true' : 'false' if ref $v eq 'SCALAR';
	return $v if $v =~ /^-?(?:0|[1-9][0-9]*)$/;
	return _string($v);
}

sub _string
{
	my ($s) = @_;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\t/\\t/g;
	return '"' . $s . '"';
}

# Lines "saved|<session>|<number>|<created t/f>|<md5 of the state as the server read it>"
# printed by clients after a save returned. Adds them to $recorded->{session}{number} and
# returns how many were added; a number recorded twice with different states is reported
# (numbers are never reused).
sub parse_saves
{
	my ($output, $recorded, $problems) = @_;
	my $added = 0;
	for my $line (split /\n/, $output)
	{
		next unless $line =~ /^saved\|([0-9a-f-]{36})\|(\d+)\|([tf])\|([0-9a-f]{32})$/;
		my ($sid, $n, $created, $md5) = ($1, $2, $3, $4);
		if (exists $recorded->{$sid}{$n} && $recorded->{$sid}{$n} ne $md5)
		{
			push @$problems, "session $sid: snapshot $n returned for two different states";
			next;
		}
		$recorded->{$sid}{$n} = $md5;
		$added++;
	}
	return $added;
}

# SIGKILL the postmaster and all its children at once, as a power cut would (minus the OS
# cache: with fsync off the data is in the kernel's page cache, which survives). pg_ctl
# starts the postmaster in its own session, so its process group is the whole server.
sub crash_node
{
	my ($node) = @_;
	my $pid = $node->{_pid};
	die "node is not running" unless defined $pid;
	my $pgid = `ps -o pgid= -p $pid`;
	$pgid =~ s/\s+//g;
	if ($pgid eq $pid)
	{
		kill 'KILL', -$pid;
	}
	else
	{
		my @children = split ' ', `ps -o pid= --ppid $pid`;
		kill 'KILL', $pid, @children;
	}
	# Wait until every process of the old server is gone (kill 0 fails for a dead group).
	for (1 .. 600)
	{
		last unless kill(0, $pgid eq $pid ? -$pid : $pid);
		select(undef, undef, undef, 0.05);
	}
	$node->{_pid} = undef;
	return;
}

# Saves one new state into every session and expects the next number (latest + 1): after a
# crash or a restore, numbering continues and never reuses a number. Records the probes.
sub save_probes
{
	my ($node, $db, $schema, $recorded, $tag) = @_;
	my $out = $node->safe_psql(
		$db, qq{
SET search_path = $schema, pg_catalog;
SELECT 'probe', s.id, s.latest_snapshot_number, r.snapshot_number, r.created,
       md5(jsonb_build_object('probe', '$tag', 'session', s.id)::text)
  FROM free_agent_sessions s,
       LATERAL create_session_snapshot(s.id, jsonb_build_object('probe', '$tag', 'session', s.id)) r
 ORDER BY s.id;
});
	my @problems;
	my $count = 0;
	for my $line (split /\n/, $out)
	{
		my (undef, $sid, $latest, $n, $created, $md5) = split /\|/, $line;
		$count++;
		push @problems, "session $sid: probe saved as $n after latest $latest"
		  unless $n == $latest + 1 && $created eq 't';
		push @problems, "session $sid: probe got number $n, already used"
		  if exists $recorded->{$sid}{$n};
		$recorded->{$sid}{$n} = $md5;
	}
	is_deeply(\@problems, [], "$tag: the next save of each of $count sessions gets latest + 1");
	return $count;
}

# Checks every session in $db:
#  - every stored snapshot restores (get_snapshot and the view agree; hashes verify);
#  - get_latest_snapshot is the highest number;
#  - counters equal the rows (count, latest number and size, total and stored bytes,
#    last_snapshot_at; message_count and gapless message_order);
#  - numbers are contiguous: cleanup deletes only the oldest;
#  - every recorded save (a call that returned) is restorable with exactly its state,
#    unless a cleanup with keep count $opt{pruned}{session} may have removed it;
#  - verify_session() finds nothing, once it exists.
# Returns a summary: sessions, snapshots, recorded saves checked.
sub check_sessions
{
	my ($node, $db, %opt) = @_;
	my $schema   = $opt{schema}   // 'public';
	my $recorded = $opt{recorded} // {};
	my $pruned   = $opt{pruned}   // {};
	my $label    = $opt{label}    // 'check';
	my @problems;

	my $rows = $node->safe_psql(
		$db, qq{
SET search_path = $schema, pg_catalog;
CREATE FUNCTION pg_temp.restored(sid uuid, n integer) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE by_function text; by_view text;
BEGIN
  SELECT md5(g.snapshot_data::text) INTO STRICT by_function FROM $schema.get_snapshot(sid, n) g;
  SELECT md5(v.snapshot_data::text) INTO STRICT by_view
    FROM $schema.session_snapshots v WHERE v.session_id = sid AND v.snapshot_number = n;
  IF by_function IS DISTINCT FROM by_view THEN
    RETURN 'get_snapshot ' || by_function || ' but the view ' || by_view;
  END IF;
  RETURN by_function;
EXCEPTION WHEN OTHERS THEN
  RETURN 'error ' || SQLSTATE || ' ' || SQLERRM;
END \$\$;
CREATE FUNCTION pg_temp.latest(sid uuid) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN
  RETURN coalesce(md5($schema.get_latest_snapshot(sid)::text), 'none');
EXCEPTION WHEN OTHERS THEN
  RETURN 'error ' || SQLSTATE || ' ' || SQLERRM;
END \$\$;
SELECT 'snapshot', c.session_id, c.snapshot_number, pg_temp.restored(c.session_id, c.snapshot_number)
  FROM session_snapshot_chain c ORDER BY 2, 3;
SELECT 'session', s.id, s.snapshot_count, s.latest_snapshot_number, s.latest_snapshot_size,
       s.total_snapshot_size, s.stored_bytes, s.message_count,
       s.last_snapshot_at IS NOT DISTINCT FROM l.created_at,
       c.n, coalesce(c.lo, 0), coalesce(c.hi, 0), coalesce(c.size, 0), coalesce(c.stored, 0),
       coalesce(l.snapshot_size, 0), m.n, coalesce(m.hi, 0),
       pg_temp.latest(s.id), l.snapshot_number
  FROM free_agent_sessions s
  LEFT JOIN LATERAL (SELECT count(*) AS n, min(snapshot_number) AS lo, max(snapshot_number) AS hi,
                            sum(snapshot_size) AS size, sum(stored_bytes) AS stored
                       FROM session_snapshot_chain WHERE session_id = s.id) c ON true
  LEFT JOIN LATERAL (SELECT snapshot_number, snapshot_size, created_at FROM session_snapshot_chain
                      WHERE session_id = s.id ORDER BY snapshot_number DESC LIMIT 1) l ON true
  LEFT JOIN LATERAL (SELECT count(*) AS n, max(message_order) AS hi
                       FROM session_messages WHERE session_id = s.id) m ON true
 ORDER BY s.id;
});

	my (%stored, %session);
	my $snapshots = 0;
	for my $line (split /\n/, $rows)
	{
		my @f = split /\|/, $line;
		if ($f[0] eq 'snapshot')
		{
			my (undef, $sid, $n, $md5) = @f;
			$snapshots++;
			$stored{$sid}{$n} = $md5;
			push @problems, "session $sid: snapshot $n does not restore: $md5"
			  unless $md5 =~ /^[0-9a-f]{32}$/;
		}
		elsif ($f[0] eq 'session')
		{
			my (undef, $sid, $count, $latest, $latest_size, $total, $stored_bytes, $msg_count,
				$stamp_ok, $rows_n, $lo, $hi, $size, $stored_sum, $row_latest_size, $msg_rows,
				$msg_hi, $latest_md5, $latest_n) = @f;
			$session{$sid} = { latest => $latest, lo => $lo };
			push @problems, "session $sid: snapshot_count $count but $rows_n rows"
			  if $count != $rows_n;
			push @problems, "session $sid: latest_snapshot_number $latest but highest row $hi"
			  if $rows_n > 0 && $latest != $hi;
			push @problems, "session $sid: numbers $lo..$hi are not contiguous ($rows_n rows)"
			  if $rows_n > 0 && $hi - $lo + 1 != $rows_n;
			push @problems, "session $sid: latest_snapshot_size $latest_size but the latest row has $row_latest_size"
			  if $latest_size != $row_latest_size;
			push @problems, "session $sid: total_snapshot_size $total but rows sum to $size"
			  if $total != $size;
			push @problems, "session $sid: stored_bytes $stored_bytes but rows sum to $stored_sum"
			  if $stored_bytes != $stored_sum;
			push @problems, "session $sid: last_snapshot_at is not the latest snapshot's created_at"
			  if $rows_n > 0 && $stamp_ok ne 't';
			push @problems, "session $sid: message_count $msg_count but $msg_rows messages"
			  if $msg_count != $msg_rows;
			push @problems, "session $sid: message_order is not 1..$msg_rows (highest $msg_hi)"
			  if $msg_hi != $msg_rows;
			if ($rows_n > 0)
			{
				my $want = $stored{$sid}{$latest_n} // 'missing';
				push @problems, "session $sid: get_latest_snapshot gives $latest_md5, snapshot $latest_n is $want"
				  if $latest_md5 ne $want;
			}
			else
			{
				push @problems, "session $sid: no rows but get_latest_snapshot gives $latest_md5"
				  if $latest_md5 ne 'none';
			}
		}
	}

	# Every save whose call returned is restorable with exactly its state.
	my $checked = 0;
	for my $sid (sort keys %$recorded)
	{
		my $s = $session{$sid};
		if (!$s)
		{
			push @problems, "session $sid: recorded saves but the session is gone";
			next;
		}
		for my $n (sort { $a <=> $b } keys %{ $recorded->{$sid} })
		{
			my $have = $stored{$sid}{$n};
			if (!defined $have)
			{
				# A cleanup keeping k snapshots deletes only numbers <= latest - k.
				next if defined $pruned->{$sid} && $n <= $s->{latest} - $pruned->{$sid};
				push @problems, "session $sid: saved snapshot $n is lost (latest $s->{latest})";
				next;
			}
			$checked++;
			push @problems, "session $sid: snapshot $n restores to $have, saved $recorded->{$sid}{$n}"
			  if $have ne $recorded->{$sid}{$n};
		}
	}

	# verify_session(p_session_id) (issue 3): healthy sessions report no problem.
	my $verify = $node->safe_psql(
		$db, qq{
SELECT p.proretset FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = '$schema' AND p.proname = 'verify_session'});
	my $verified = 0;
	if ($verify ne '')
	{
		my $query =
		  $verify eq 't'
		  ? "SELECT s.id, (SELECT count(*) FROM $schema.verify_session(s.id))::text"
		  : "SELECT s.id, coalesce($schema.verify_session(s.id)::text, '0')";
		for my $line (split /\n/,
			$node->safe_psql($db, "$query FROM $schema.free_agent_sessions s ORDER BY 1"))
		{
			my ($sid, $found) = split /\|/, $line, 2;
			$verified++;
			push @problems, "session $sid: verify_session reports $found"
			  unless $found =~ /^(0|\[\]|\{\}|t|true)$/;
		}
	}

	my $sessions = scalar keys %session;
	if (@problems)
	{
		diag("$label: " . scalar(@problems) . " problems");
		diag($_) for @problems[ 0 .. ($#problems < 30 ? $#problems : 29) ];
	}
	ok(!@problems,
		"$label: $sessions sessions, $snapshots snapshots restore, counters exact, "
		  . "$checked returned saves intact"
		  . ($verify ne '' ? ", verify_session clean on $verified" : ''));
	return { sessions => $sessions, snapshots => $snapshots, checked => $checked };
}

1;
