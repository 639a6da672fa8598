#!/usr/bin/perl
# The SpamAssassin side of the trace comparison (see ../../docs/benchmarks.md).
#
#   perl relays.pl TRUSTED_NETWORKS FILE...
#
# For each message, SpamAssassin 4 parses the Received chain with the given
# trusted_networks / internal_networks (space-separated CIDRs; SpamAssassin always adds
# 127/8) and prints "FILE<TAB>IP-of-the-first-untrusted-relay" (or "-"). Only the
# metadata extraction runs (Mail::SpamAssassin::PerMsgStatus::extract_message_metadata),
# not the rules, so the time is the Received parsing and trust walk. The last line on
# stderr is "seconds WALL cpu CPU messages M".
use strict;
use warnings;
use Mail::SpamAssassin;
use Time::HiRes qw(time);

my $nets = shift @ARGV // '';
my $cf = "trusted_networks $nets\ninternal_networks $nets\n";
$cf = "" if $nets eq '';
my $sa = Mail::SpamAssassin->new({
    config_text => $cf,
    local_tests_only => 1,
    dont_copy_prefs => 1,
    userprefs_filename => '/dev/null',
    site_rules_filename => '/dev/null',
    rules_filename => '/dev/null',
});
$sa->init(0);
my @texts;
for my $f (@ARGV) {
    open(my $fh, '<:raw', $f) or die "$f: $!";
    local $/;
    push @texts, [$f, <$fh>];
    close $fh;
}
my $t0 = time;
my @c0 = times;
for my $m (@texts) {
    my ($f, $text) = @$m;
    my $mail = $sa->parse($text, 1);
    my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $mail);
    $pms->extract_message_metadata();
    my $u = $pms->{relays_untrusted};
    my $ip = (defined $u && @$u) ? $u->[0]->{ip} : '-';
    print "$f\t$ip\n";
    $pms->finish();
    $mail->finish();
}
my $dt = time - $t0;
my @c1 = times;
my $cpu = ($c1[0] - $c0[0]) + ($c1[1] - $c0[1]);
printf STDERR "seconds %.3f cpu %.3f messages %d\n", $dt, $cpu, scalar(@texts);
