# The floor of a Perl bond: read one JSON-RPC request line, call an identity function, write one
# reply line. Nothing else: what any bond over pipes must at least spend with the JSON module the
# driver would use (Cpanel::JSON::XS, JSON::XS, JSON::PP; BOND_PERL_JSON=PP forces JSON::PP).
use strict;
use warnings;

my @modules = ($ENV{BOND_PERL_JSON} // '') eq 'PP' ? ('JSON::PP')
    : ('Cpanel::JSON::XS', 'JSON::XS', 'JSON::PP');
my $json;
for my $module (@modules) {
    (my $file = "$module.pm") =~ s{::}{/}g;
    next unless eval { require $file; 1 };
    $json = $module->new->utf8->allow_nonref;
    last;
}
die "no JSON module (tried @modules)\n" unless $json;

sub ident { return $_[0] }

binmode STDIN;
binmode STDOUT;
$| = 1;
while (my $line = <STDIN>) {
    my $request = $json->decode($line);
    my $reply = { jsonrpc => '2.0', id => $request->{id},
                  result => ident(@{ $request->{params}{args} }) };
    print $json->encode($reply), "\n";
}
