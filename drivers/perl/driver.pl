# The bond driver for Perl: speaks the protocol of docs/protocol.md with the host over private
# copies of the process's original stdin/stdout. The host starts plain `perl`, which reads its
# program from stdin: this file followed by a line __END__, so the rest of stdin stays unread.
#
# User code runs in package main through the two subs right below, compiled before anything
# else of the driver so that the string evals see none of the driver's lexicals and no `use
# strict`. Everything else lives in package Bond.
package main;

sub Bond::_run_list { local @_; eval $Bond::_code }    # list context: the caller's
sub Bond::_run_block { local @_; eval $Bond::_code; die $@ if $@; return }    # the caller's eval gets it

package Bond::Bytes;
# Bytes from the host that happen to be valid UTF-8 (the empty string included): a plain Perl
# string would go back as text, so they keep a class of their own. "$bytes" or $$bytes gives the
# byte string. Bytes that are not valid UTF-8 arrive as plain byte strings.
use overload '""' => sub { ${ $_[0] } }, 'eq' => sub { "$_[0]" eq "$_[1]" },
    'ne' => sub { "$_[0]" ne "$_[1]" }, 'bool' => sub { 1 }, fallback => 1;
sub new { my ($class, $bytes) = @_; return bless \$bytes, $class }

package Bond::Error;
# An error of the host: an exported C++ function threw, or it was called wrongly. Stringifies to
# the host's message.
use overload '""' => sub { $_[0]{message} }, 'bool' => sub { 1 }, fallback => 1;
sub new { my ($class, $message) = @_; return bless { message => $message }, $class }
sub message { $_[0]{message} }
sub throw { my $class = shift; die $class->new(@_) }

package Bond::Interrupted;
# Raised in code the host stops: Bond::interrupt(), or a limit ($@->limit names it: "cpu").
# Stringifies to the reason.
use overload '""' => sub { $_[0]{message} }, 'bool' => sub { 1 }, fallback => 1;
sub new { my ($class, $message, $limit) = @_; return bless { message => $message, limit => $limit }, $class }
sub message { $_[0]{message} }
sub limit { $_[0]{limit} }

package Bond::SerializationError;
sub new { my ($class, $message) = @_; return bless { message => $message }, $class }

package Bond::InvalidParams;
# A request the driver cannot serve as sent (an object number not in the table): error -32602.
sub new { my ($class, $message) = @_; return bless { message => $message }, $class }

package Bond::Proxy;
# An object the host holds (docs/protocol.md, Objects): `$proxy->method(...)` and `$proxy->(...)`
# send invoke requests, `$proxy->{name}` get and set ones, through the host to the object's
# owner. Blessed around a scalar holding [number, type], so that the overloaded %{} and &{} never
# meet the proxy's own state. Sent back to the host as {"$yours": number}. Perl frees it as soon
# as nothing refers to it: DESTROY queues its number for a release notification.
use overload
    '&{}' => sub { my $proxy = $_[0]; return sub { Bond::proxy_invoke($proxy, undef, @_) } },
    '%{}' => sub { tie my %attributes, 'Bond::ProxyAttributes', $_[0]; return \%attributes },
    '""' => sub { "<bond proxy of ${ $_[0] }->[1] #${ $_[0] }->[0]>" },
    'bool' => sub { 1 },
    '==' => sub { Bond::same_object($_[0], $_[1]) },
    '!=' => sub { !Bond::same_object($_[0], $_[1]) },
    'eq' => sub { ref $_[1] ? Bond::same_object($_[0], $_[1]) : "$_[0]" eq $_[1] },
    'ne' => sub { ref $_[1] ? !Bond::same_object($_[0], $_[1]) : "$_[0]" ne $_[1] },
    fallback => 1;
our $AUTOLOAD;
sub AUTOLOAD {
    my $self = shift;
    my $name = substr($AUTOLOAD, rindex($AUTOLOAD, '::') + 2);
    die qq(Can't locate object method "$name" via package "Bond::Proxy"\n) unless ref $self;
    return Bond::proxy_invoke($self, $name, @_);
}
# Any method may be the host object's: can answers a sub that invokes it (the object first, as
# what `can` answers is called). The proxy's own (isa, can, DOES, VERSION) come first.
sub can {
    my ($self, $name) = @_;
    my $own = UNIVERSAL::can($self, $name);
    return $own if $own || !ref $self;
    return sub { my $object = shift; Bond::proxy_invoke($object, $name, @_) };
}
sub DESTROY { Bond::release_proxy($_[0]) }

package Bond::ProxyAttributes;
# What %{} of a proxy gives: a hash tied to the host object's attributes.
sub TIEHASH { my ($class, $proxy) = @_; return bless \$proxy, $class }
sub FETCH { Bond::proxy_get(${ $_[0] }, $_[1]) }
sub STORE { Bond::proxy_set(${ $_[0] }, $_[1], $_[2]); return }
sub EXISTS {    # whether the host can read it
    my ($self, $name) = @_;
    return 1 if eval { Bond::proxy_get($$self, $name); 1 };
    die $@ if ref $@ && ref $@ ne 'Bond::Error';    # an interrupt
    return '';
}
sub DELETE { die "a bond proxy cannot delete the attributes of the host's object\n" }
sub CLEAR { die "a bond proxy cannot delete the attributes of the host's object\n" }
sub FIRSTKEY { die "a bond proxy cannot list the attributes of the host's object\n" }
sub NEXTKEY { return }
sub SCALAR { 1 }

package Bond::Output;
# STDOUT and STDERR are tied to this class: what Perl code prints becomes an output notification
# at once, after whatever was written at the descriptor level before it.
sub TIEHANDLE { my ($class, $channel) = @_; return bless { channel => $channel }, $class }
sub PRINT {
    my $self = shift;
    my $text = join(defined $, ? $, : '', @_) . (defined $\ ? $\ : '');
    Bond::emit_output($self->{channel}, $text);
    return 1;
}
sub PRINTF { my $self = shift; my $format = shift; Bond::emit_output($self->{channel}, sprintf($format, @_)); 1 }
sub WRITE {
    my ($self, $buffer, $length, $offset) = @_;
    $offset //= 0;
    $length //= length($buffer) - $offset;
    Bond::emit_output($self->{channel}, substr($buffer, $offset, $length));
    return $length;
}
sub FILENO { $_[0]{channel} eq 'stdout' ? 1 : 2 }
sub BINMODE { 1 }
sub CLOSE { 1 }
sub OPEN { 1 }
sub EOF { 1 }
sub UNTIE { }

package Bond;
use strict;
use warnings;
no warnings 'recursion';
use B ();
# Loaded where first needed, not at start-up (POSIX alone takes about 9 ms to load): Time::HiRes
# (CPU limits), MIME::Base64 (bytes), Scalar::Util (blessed values, exceptions), File::Spec
# (no memfd_create), POSIX (_exit, rare paths), Errno (EINTR), Fcntl (see %fcntl). The subs the
# driver calls are taken at start-up all the same (see load_subs).

# --- State ----------------------------------------------------------------------------------------
# The driver's own state, in package Bond: user code runs in package main (see the end of this
# file) and sees none of the lexicals.
sub PROTOCOL_VERSION () { 1 }    # not `use constant`: one module less to load
sub NO_FILE () { '-e' }    # the file of code sent without a name, as `perl -e` names it
sub DRIVER_FILE () { '-' }    # this file's name: perl read it from stdin

our $_code;
our @_args;

my $json;         # the decoder: Cpanel::JSON::XS, JSON::XS or JSON::PP
# The module subs the driver calls, taken before any user code runs: user code that assigns to
# their names (*Scalar::Util::blessed = sub {...}, *POSIX::_exit = ...) does not reach them. A
# module loaded where first needed fills in the sub taken before (see load_subs).
my ($json_decode, $json_encode);
my ($reftype, $refaddr, $blessed_of, $weaken);    # Scalar::Util's
my ($encode_base64, $decode_base64);              # MIME::Base64's
my $setitimer;                                    # Time::HiRes's
my %module_subs = map { no strict 'refs'; ($_ => \&{$_}) } qw(Scalar::Util::reftype
    Scalar::Util::refaddr Scalar::Util::blessed Scalar::Util::weaken MIME::Base64::encode_base64
    MIME::Base64::decode_base64 Time::HiRes::setitimer POSIX::_exit Errno::EINTR);
my ($utf8_encode, $utf8_decode, $utf8_upgrade, $is_utf8) =
    (\&utf8::encode, \&utf8::decode, \&utf8::upgrade, \&utf8::is_utf8);
my ($svref_2object, $sv_flags, $overload_method) = (\&B::svref_2object, \&B::SV::FLAGS, \&overload::Method);
our $JSON_MODULE;    # which one, for tests
my ($protocol_in, $protocol_out);
my $original_stderr;    # where the host reads why the driver ends (see fail)
my %output_files;    # channel => [handle, read position, reader, channel, reader is handle]
my @output_files;    # the same, stdout first
my $in_buffer = '';
my $may_hold_tags = 1;     # whether the message read last may hold tagged values (read_message)
my $newline_free = 0;      # how much of $in_buffer's start is known to hold no newline
my $trans_except = 0;
my $next_id = 0;
our $sending = 0;
my $driver_pid = $$;    # a process forked by user code is not the driver (see forked)
my $fork_mark;          # pack('J', the address of a page a forked child gets zeroed)
my $has_is_bool = defined &builtin::is_bool;

my @serving;             # ids of the host's requests being served, innermost last
my $stop;                # [request id, message, limit] of the operation to stop
my $stop_raised = 0;     # once: code that swallows it is killed by the host
our $user_code = 0;
my $input_arrived = 0;   # SIGIO came while the driver could not read
my $input_bits = '';     # the input's descriptor as select() takes it
my ($rt_sigaction, $sigio_handled, $sigio_ignored, $sigio_number);    # see watch_input
my $watching = 1;        # whether SIGIO is handled now
my %limits;              # the running operation's id, cpu, memory
my @pending_notifications;    # lines a signal handler could not send halfway through a message
my $memory_baseline;     # the interpreter's address space once the driver runs
my $RLIMIT_AS = 9;
sub ITIMER_PROF () { 2 }    # on Linux and the BSDs alike (Time::HiRes would have to be loaded)
my $original_address_space;   # [soft, hard] as the driver found them

# Objects (docs/protocol.md, Objects). The table holds what the driver sent as {"$obj": N}: a
# new number for every send, never reused, until the host releases it.
my %objects;             # number => value
my $last_object = 0;
our @holding;            # numbers given while the value being encoded now is (undone if it fails)
our $may_hold = 1;       # 0: values JSON cannot carry are errors (an error's data)
my %proxies;             # the host's number => its proxy (a weak reference): one proxy a number
my @released;            # numbers of the host's objects whose proxies were freed, to send

# --- Channels and output --------------------------------------------------------------------------
# The protocol moves to private copies of fd 0 and 1 (close-on-exec, as Perl makes every
# descriptor above $^F). fd 0 becomes /dev/null. fd 1 and 2 become files in append mode that the
# driver reads before each message it sends: output written at the descriptor level (child
# processes, XS code) becomes output messages, and a file never fills up, so no writer blocks on
# it although Perl has no thread to drain a pipe. Perl's own STDOUT and STDERR handles are tied
# to Bond::Output, which sends what they print at once.
sub open_channels {
    open($protocol_in, '<&', \*STDIN) or die "bond driver: dup stdin: $!\n";
    open($protocol_out, '>&', \*STDOUT) or die "bond driver: dup stdout: $!\n";
    binmode($_) for $protocol_in, $protocol_out;
    open($original_stderr, '>&', \*STDERR) or die "bond driver: dup stderr: $!\n";
    close DATA if defined fileno(DATA);
    # Perl reopens its standard handles on their own descriptors (0, 1, 2): dup2 without POSIX.
    open(STDIN, '<', '/dev/null') or die "bond driver: /dev/null: $!\n";
    for my $channel ('stdout', 'stderr') {
        my ($handle, $reader) = memory_file("bond-$channel");
        ($handle, $reader) = temporary_file($channel) unless $handle;
        binmode $_ for $handle, $reader;
        if ($channel eq 'stdout') {
            open(STDOUT, '>&', $handle) or die "bond driver: stdout: $!\n";
        } else {
            open(STDERR, '>&', $handle) or die "bond driver: stderr: $!\n";
        }
        $output_files{$channel} = [$handle, 0, $reader, $channel, $reader == $handle];
        push @output_files, $output_files{$channel};
    }
    tie *STDOUT, 'Bond::Output', 'stdout';
    tie *STDERR, 'Bond::Output', 'stderr';
}

# System call numbers, by the architecture perl was built for (Linux), for what Perl has no
# function of its own: memfd_create and rt_sigaction.
my %MEMFD_CREATE = (x86_64 => 319, i386 => 356, i486 => 356, i586 => 356, i686 => 356,
    aarch64 => 279, riscv64 => 279, loongarch64 => 279, arm => 385, powerpc => 360,
    powerpc64 => 360, powerpc64le => 360, s390x => 350);
my %RT_SIGACTION = (x86_64 => 13, i386 => 174, i486 => 174, i586 => 174, i686 => 174,
    aarch64 => 134, riscv64 => 134, loongarch64 => 134, arm => 174, powerpc => 173,
    powerpc64 => 173, powerpc64le => 173, s390x => 174);
my $SIGIO = 29;    # on all of these (Config's sig_num would load Config_heavy.pl: 2 ms)
# mmap, madvise and clock_gettime, for the fork mark (see mark_driver_process).
my %FORK_MARK_CALLS = (x86_64 => [9, 28, 228], aarch64 => [222, 233, 113],
    riscv64 => [222, 233, 113], loongarch64 => [222, 233, 113]);

sub system_call_number {
    my ($numbers) = @_;
    return undef unless $^O eq 'linux';
    require Config;
    no warnings 'once';
    my $arch = $Config::Config{archname};
    return undef if $arch =~ /x32/;    # the x32 ABI numbers its system calls differently
    return $numbers->{ (split /-/, $arch)[0] };
}

# Whether this is a process forked by user code, not the driver. Asked before every message: $$
# is a getpid() system call each time it is read, where the fork mark is a read of memory.
sub forked {
    return $fork_mark ? !unpack('J', unpack('P8', $fork_mark)) : $$ != $driver_pid;
}

# The fork mark: a page of the driver's that holds a number other than 0, which the kernel zeroes
# in a forked child (MADV_WIPEONFORK, Linux 4.14). Where the system calls are not known, or that
# fails, forked() asks $$.
sub mark_driver_process {
    my $calls = system_call_number(\%FORK_MARK_CALLS) or return;
    my ($mmap, $madvise, $clock_gettime) = @$calls;
    my $page = syscall($mmap, 0, 4096, 3, 0x22, -1, 0);    # read and write, private anonymous
    return if $page == -1;
    # 18: MADV_WIPEONFORK. The clock (CLOCK_REALTIME) writes its seconds since 1970 there.
    return if syscall($madvise, $page, 4096, 18) != 0 || syscall($clock_gettime, 0, $page) != 0;
    $fork_mark = pack('J', $page);
    $fork_mark = undef if forked();
}

# fcntl's numbers: on Linux for the architectures above (their common values), else from Fcntl,
# which takes about 0.6 ms to load.
my %fcntl;

sub fcntl_numbers {
    my @names = qw(F_GETFL F_SETFL F_SETOWN O_APPEND O_ASYNC);
    if (system_call_number(\%RT_SIGACTION)) {
        @fcntl{@names} = (3, 4, 8, 02000, 020000);
    } else {
        require Fcntl;
        $fcntl{$_} = Fcntl->can($_)->() for @names;
    }
}

# An output file in memory, in append mode: it needs no writable directory, so the driver also
# runs where / and /tmp are read-only (a sandbox) and leaves nothing on disk. Returns the file and
# a reader of it (see reader_of); nothing where memfd_create is not to be had.
sub memory_file {
    my ($name) = @_;
    my $number = system_call_number(\%MEMFD_CREATE) or return;
    my $fd = syscall($number, $name, 1);    # MFD_CLOEXEC
    return if $fd < 0;
    open(my $handle, '+<&=', $fd) or return;
    my $flags = fcntl($handle, $fcntl{F_GETFL}, 0);
    fcntl($handle, $fcntl{F_SETFL}, $flags | $fcntl{O_APPEND}) or return;
    return ($handle, reader_of("/proc/self/fd/$fd") // $handle);
}

# An unlinked temporary file in append mode in $TMPDIR or /tmp, where memfd_create is missing.
sub temporary_file {
    my ($channel) = @_;
    require File::Spec;
    require Fcntl;
    my $dir = File::Spec->tmpdir;
    my $mode = Fcntl::O_RDWR() | Fcntl::O_CREAT() | Fcntl::O_EXCL() | Fcntl::O_APPEND();
    for my $attempt (1 .. 100) {
        my $path = sprintf('%s/bond-perl-%d-%s-%d', $dir, $$, $channel, int(rand(1e9)));
        if (sysopen(my $handle, $path, $mode, 0600)) {
            my $reader = reader_of($path) // $handle;
            unlink $path;
            return ($handle, $reader);
        }
    }
    die "bond driver: cannot create an output file in $dir: $!\n";
}

# A second open file description of an output file, for reading: its offset is the driver's own,
# where the writers' appends move the shared offset of the first. Reading what is new then takes
# one read instead of a seek and a read. undef where it cannot be opened (no /proc).
sub reader_of {
    my ($path) = @_;
    open(my $reader, '<', $path) or return undef;
    return $reader;
}

sub write_all {
    my $length = length $_[0];    # $_[0]: not copied, it may be a large reply
    my $offset = 0;
    while ($offset < $length) {
        my $written = syswrite($protocol_out, $_[0], $length - $offset, $offset);
        if (!defined $written) {
            next if interrupted_call();
            quit(0);    # the host is gone
        }
        $offset += $written;
    }
}

# Whether the system call that just failed was interrupted by a signal (EINTR). Errno, which %!
# would load at start-up, is loaded here, on the first failure.
sub interrupted_call {
    my $error = $! + 0;
    require Errno;
    return $error == $module_subs{'Errno::EINTR'}->();
}

# Sends one message: $_[0] is a character string of JSON, which send_line turns into the line
# (UTF-8 and a newline) in place. $_[1]: the caller has made sure this is the driver's process.
sub send_line {
    quit(0) if !$_[1] && forked();    # a forked child that returned into the driver
    if ($watching && $rt_sigaction) {    # watch_input(0), inline: once per message
        $watching = 0;
        syscall($rt_sigaction, $sigio_number, $sigio_ignored, 0, 8);
    }
    local $sending = 1;
    drain_output_files();
    write_all(shift @pending_notifications) while @pending_notifications;
    send_releases() if @released;
    $utf8_encode->($_[0]);
    $_[0] .= "\n";
    my $written = syswrite($protocol_out, $_[0]);
    write_all(substr($_[0], $written // 0)) if ($written // -1) != length $_[0];    # rare: a large line
}

# The numbers of the proxies freed since the last message, in one notification.
sub send_releases {
    write_all('{"jsonrpc":"2.0","method":"release","params":{"objects":[' . join(',', splice @released)
        . "]}}\n");
}

sub output_notification {
    my ($channel, $bytes) = @_;
    my $text = utf8_text($bytes);
    my $encoded = defined $text ? encode_string($text) : encode_bytes($bytes);
    my $line = '{"jsonrpc":"2.0","method":"output","params":{"channel":"' . $channel . '","data":'
        . $encoded . '}}';
    $utf8_encode->($line);
    $line .= "\n";
    write_all($line);
}

# Forwards what the output files hold that was not forwarded yet.
sub drain_output_files {
    for my $file (@output_files) {
        # Without a reader of its own, the driver reads the file through its writers' offset
        # (whence 0: SEEK_SET, as everywhere).
        sysseek($file->[2], $file->[1], 0) if $file->[4];
        # Usually nothing: one read (of a small size, as Perl makes the buffer that large first).
        next unless sysread($file->[2], my $data, 1 << 16);
        my ($handle, $position, $reader, $channel) = @$file;
        1 while sysread($reader, $data, 1 << 20, length $data);
        $position += length $data;
        if ($position > (1 << 16)) {
            truncate($handle, 0);
            sysseek($reader, 0, 0);
            $position = 0;
        }
        $file->[1] = $position;
        output_notification($channel, $data);
    }
}

sub emit_output {
    my ($channel, $text) = @_;
    stop_at_safe_point();    # code that prints in a loop stops here
    return unless length $text;
    $utf8_encode->($text) if $is_utf8->($text);
    if ($sending || !$protocol_out || forked()) {
        # A warning while a message is being written, or output of a forked process: it goes
        # to the file, which the driver forwards.
        my $file = $output_files{$channel};
        syswrite($file->[0], $text) if $file;
        return;
    }
    {
        local $sending = 1;
        drain_output_files();
        send_releases() if @released;
        output_notification($channel, $text);
    }
    stop_at_safe_point();    # a stop that came while this was written
}

# What descriptor-level output a channel holds that was not forwarded yet.
sub unforwarded {
    my ($channel) = @_;
    my (undef, $position, $reader) = @{ $output_files{$channel} };
    sysseek($reader, $position, 0);
    my $data = '';
    1 while sysread($reader, $data, 1 << 16, length $data);
    sysseek($reader, $position, 0);
    return $data;
}

# --- Values ---------------------------------------------------------------------------------------
sub choose_json {
    my @modules = ('Cpanel::JSON::XS', 'JSON::XS', 'JSON::PP');
    my $forced = $ENV{BOND_PERL_JSON};
    if (defined $forced && $forced ne '') {
        @modules = $forced eq 'PP' ? ('JSON::PP') : $forced eq 'XS' ? ('Cpanel::JSON::XS', 'JSON::XS') : ($forced);
    }
    for my $module (@modules) {
        (my $file = "$module.pm") =~ s{::}{/}g;
        next unless eval { require $file; 1 };
        $JSON_MODULE = $module;
        $json = $module->new->utf8->allow_nonref;
        ($json_decode, $json_encode) = ($json->can('decode'), $json->can('encode'));
        return;
    }
    die "bond driver: no JSON module (tried @modules)\n";
}

my %escape = (map({ chr($_) => sprintf('\\u%04x', $_) } 0 .. 31),
    "\n" => '\n', "\t" => '\t', "\r" => '\r', "\f" => '\f', "\b" => '\b', '"' => '\"', '\\' => '\\\\');

sub serialization_error { die Bond::SerializationError->new($_[0]) }

# A character that UTF-8 cannot carry: a surrogate, or beyond U+10FFFF.
my $not_unicode_scalar = qr/[^\x{0}-\x{D7FF}\x{E000}-\x{10FFFF}]/;

sub encode_string {
    my ($s) = @_;    # a character string
    # Printable ASCII but " and \ goes as it is: one scan for most strings, large ones included.
    return qq("$s") if $s !~ /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
    # One character class: Perl scans it at once (an alternation of two classes took a second for
    # 16 MiB, most of a large string's round trip).
    if ($s =~ $not_unicode_scalar) {
        serialization_error('a string with a surrogate or beyond U+10FFFF is not valid UTF-8');
    }
    $s =~ s/(["\\\x00-\x1f])/$escape{$1}/g;
    return qq("$s");
}

# A Perl string as text when it can be: character strings are text; byte strings are text when
# they are valid UTF-8, else undef (bytes). Perl's own decoding (no Encode to load) also takes
# surrogates and code points beyond U+10FFFF, which UTF-8 excludes: checked after it.
sub utf8_text {
    my ($s) = @_;
    return $s if $is_utf8->($s) || $s !~ /[\x80-\xff]/;
    return undef unless $utf8_decode->($s);
    return undef if $s =~ $not_unicode_scalar;
    return $s;
}

# Loads a module and gives the driver's references to its subs: `load_subs('Scalar::Util',
# \$reftype => 'reftype', ...)`. They were taken at start-up (%module_subs): a reference to a sub
# not defined yet is a stub, which loading the module defines (XS or Perl). (User code that
# defines a sub of that name with `sub NAME {...}` before the module is loaded defines the stub.)
sub load_subs {
    my $module = shift;
    (my $file = "$module.pm") =~ s{::}{/}g;
    require $file;
    while (my ($variable, $name) = splice(@_, 0, 2)) {
        $$variable = $module_subs{"${module}::$name"};
    }
}

sub scalar_util {
    load_subs('Scalar::Util', \$reftype => 'reftype', \$refaddr => 'refaddr',
        \$blessed_of => 'blessed', \$weaken => 'weaken');
}

sub base64 {
    load_subs('MIME::Base64', \$encode_base64 => 'encode_base64', \$decode_base64 => 'decode_base64');
}

sub encode_bytes {
    base64() unless $encode_base64;
    return '{"$bytes":"' . $encode_base64->($_[0], '') . '"}';
}

my %booleans = map { $_ => 1 } qw(JSON::PP::Boolean Types::Serialiser::Boolean JSON::XS::Boolean
    Cpanel::JSON::XS::Boolean boolean);

sub encode_float {
    my ($v) = @_;
    serialization_error('NaN cannot be serialized') if $v != $v;
    serialization_error('an infinite number cannot be serialized') if $v == 9**9**9 || $v == -9**9**9;
    my $s = sprintf('%.15g', $v);
    $s = sprintf('%.17g', $v) if $s != $v;
    $s .= '.0' unless $s =~ /[.eE]/;
    return $s;
}

sub encode_value {
    my $v = $_[0];
    return encode_reference($v) if ref $v;
    return 'null' unless defined $v;
    my $flags = $sv_flags->($svref_2object->(\$v));
    if (!($flags & B::SVf_POK)) {
        # A number: held as one and not used as a string since. An integer (signed or not) when
        # Perl holds it as one: "$v" then gives its digits.
        if ($flags & (B::SVp_IOK | B::SVp_NOK)) {
            return $flags & B::SVf_IOK || !($flags & B::SVp_NOK) ? "$v" : encode_float($v);
        }
        if (ref(\$v) eq 'GLOB') {
            return hold($_[0]) if $may_hold;
            serialization_error('a glob cannot be serialized');
        }
    } elsif ($has_is_bool) {
        no warnings;
        return $v ? 'true' : 'false' if builtin::is_bool($v);    # 5.36's booleans are strings too
    }
    return qq("$v") if $v !~ /[^\x20\x21\x23-\x5b\x5d-\x7e]/;    # as encode_string's first line
    my $text = utf8_text("$v");
    return defined $text ? encode_string($text) : encode_bytes("$v");
}

sub is_bool {
    no warnings;
    return builtin::is_bool($_[0]);
}

# How deep encode_reference is in arrays and hashes: a structure that contains itself would
# recurse until memory runs out. The limit is the JSON decoders' own (max_depth).
our $nesting = 0;
sub MAX_NESTING () { 512 }

sub encode_reference {
    my ($v) = @_;
    my $type = ref $v;
    if ($type eq 'ARRAY' || $type eq 'HASH') {
        local $nesting = $nesting + 1;
        serialization_error('a structure nested deeper than ' . MAX_NESTING . ' levels (or one that contains itself) cannot be serialized')
            if $nesting > MAX_NESTING;
        return '[' . join(',', map { encode_value($_) } @$v) . ']' if $type eq 'ARRAY';
        return '{' . join(',', map {
            my $key = utf8_text($_);
            serialization_error('a hash key that is not valid UTF-8') unless defined $key;
            encode_string($key) . ':' . encode_value($v->{$_})
        } sort keys %$v) . '}';
    }
    return encode_bytes($$v) if $type eq 'Bond::Bytes';
    return $v ? 'true' : 'false' if $booleans{$type};
    return '{"$yours":' . $$v->[0] . '}' if $type eq 'Bond::Proxy';
    if (blessed($v)) {
        return encode_value($v->TO_JSON) if $v->can('TO_JSON');
        if ($v->isa('Math::BigInt') || $v->isa('Math::BigFloat')) {
            serialization_error('NaN or an infinite number cannot be serialized') if $v->is_nan || $v->is_inf;
            return "$v";
        }
    }
    return hold($v) if $may_hold;
    serialization_error("a $type reference cannot be serialized");
}

# Puts $_[0] in the table under a new number: its {"$obj": N, "type": T}. T: the class of a
# blessed reference, else what ref gives (CODE, GLOB, SCALAR, ARRAY...), for a plain scalar (a
# result kept) SCALAR, for a glob GLOB.
sub hold {
    my $number = ++$last_object;
    $objects{$number} = $_[0];
    push @holding, $number;
    my $type = ref $_[0] || ref \$_[0];
    return '{"$obj":' . $number . ',"type":' . encode_string(utf8_text($type) // $type) . '}';
}

# encode_value, taking back the numbers it gave when it fails: the host never saw them.
sub encode_held {
    local @holding;
    my $encoded = eval { encode_value($_[0]) };
    return $encoded if defined $encoded;
    my $error = $@;
    delete @objects{@holding};
    die $error;
}

# The value a result kept (docs/protocol.md, "keep") is sent as: the table's, a proxy's own.
sub encode_kept {
    return encode_value($_[0]) if ref $_[0] eq 'Bond::Proxy';
    local @holding;    # nothing can fail after it
    return hold($_[0]);
}

# The table's object $number (a request's "object", a {"$yours": N}).
sub held_object {
    my ($number) = @_;
    if (!defined $number || ref $number || $number !~ /\A[0-9]+\z/) {
        die Bond::InvalidParams->new('an object number must be a non-negative integer');
    }
    return $objects{$number} if exists $objects{$number};
    die Bond::InvalidParams->new("no object $number in the table: it was released or never held");
}

sub proxy {
    my ($number, $type) = @_;
    scalar_util() unless $weaken;    # also for the proxy's == and eq
    my $proxy = bless \[$number, $type], 'Bond::Proxy';
    $weaken->($proxies{$number} = $proxy);
    return $proxy;
}

sub release_proxy {
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' || forked();
    my $number = ${ $_[0] }->[0];
    delete $proxies{$number};
    push @released, $number;
}

sub is_array {
    scalar_util() unless $reftype;
    return ($reftype->($_[0]) // '') eq 'ARRAY';
}

sub same_object {
    scalar_util() unless $refaddr;
    no warnings;
    return $refaddr->($_[0]) == (ref $_[1] ? $refaddr->($_[1]) : $_[1]);
}

sub blessed {
    scalar_util() unless $blessed_of;
    return $blessed_of->($_[0]);
}

my $base64 = qr{\A(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\z};

# Turns what the decoder made into Perl values, in place (no copy of large strings): the tags of
# docs/protocol.md, Values. $_[0] is the value, replaced where it is a tag: {"$bytes": base64}
# becomes bytes, {"$code": S} the value of S (list context, as a result), {"$obj": N, "type": T}
# a proxy, {"$yours": N} the table's object N (a Bond::InvalidParams when it has none).
sub decode_tags {
    my $type = ref $_[0] or return;
    if ($type eq 'ARRAY') {
        decode_tags($_) for @{ $_[0] };    # $_ is the element itself
    } elsif ($type eq 'HASH') {
        my $v = $_[0];
        my $size = keys %$v;
        if ($size == 1) {
            my ($key) = keys %$v;
            my $tagged = $v->{$key};
            if ($key eq '$bytes') {
                if (json_string($tagged) && $tagged =~ $base64) {
                    base64() unless $decode_base64;
                    my $bytes = $decode_base64->($tagged);
                    $_[0] = defined utf8_text($bytes) ? Bond::Bytes->new($bytes) : $bytes;
                    return;
                }
            } elsif ($key eq '$code') {
                if (json_string($tagged)) {
                    $_[0] = list_value(run_code_list($tagged));
                    return;
                }
            } elsif ($key eq '$yours') {
                if (json_index($tagged)) {
                    $_[0] = held_object($tagged);
                    return;
                }
            }
        } elsif ($size == 2 && exists $v->{'$obj'} && json_index($v->{'$obj'}) && json_string($v->{type})) {
            $_[0] = $proxies{ $v->{'$obj'} } // proxy($v->{'$obj'}, $v->{type});
            return;
        }
        decode_tags($_) for values %$v;
    }
}

# Whether a decoded value was a JSON string, and a non-negative JSON integer.
sub json_string {
    return 0 if !defined $_[0] || ref $_[0];
    my $flags = $sv_flags->($svref_2object->(\$_[0]));
    return ($flags & B::SVf_POK) && !($flags & (B::SVf_IOK | B::SVf_NOK));
}

sub json_index {
    return 0 if !defined $_[0] || ref $_[0];
    my $flags = $sv_flags->($svref_2object->(\$_[0]));
    return !($flags & B::SVf_POK) && ($flags & B::SVf_IOK) && $_[0] >= 0;
}

# --- Stopping and limits --------------------------------------------------------------------------
# Stopping running code (docs/protocol.md, Limits). Perl has no threads by default: the protocol's
# input raises SIGIO when a line arrives while user code runs (O_ASYNC, see watch_input), and Perl
# runs the handler between two ops, also in a loop that calls nothing. It dies with a
# Bond::Interrupted only in user code, never while the driver reads or writes the protocol: there
# the stop waits for the next safe point (the code starts, an exported function returns, the code
# prints).
# The input is O_ASYNC all the time (switching that flag costs far more than a signal): every
# line that arrives raises SIGIO. Only while user code runs does that mean anything, so
# SIGIO is ignored the rest of the time, which the kernel then drops at once: a signal per
# request costs more than the two rt_sigaction calls (delivery, rt_sigreturn, and the two
# sigprocmask of Perl's deferred handler). They are made through syscall with the two
# dispositions Perl itself installed, read back once; where that system call's number is not
# known, SIGIO stays handled all the time. An interrupt read with the request is taken at the
# next safe point (see interrupt_read); one that comes in the moment between the driver's read
# and the rt_sigaction raises no signal, and the host sends it once more a quarter of the way
# into the grace period (docs/protocol.md), which the code, still running then, gets: a select()
# of the input for it cost a system call per request. The driver stops watching before it sends
# anything (send_line): the host's answer must not raise the signal.
sub watch_input {
    my ($on) = @_;
    $input_arrived = 1 if $on && interrupt_read();
    return if !$rt_sigaction || $watching == $on;
    $watching = $on;
    syscall($rt_sigaction, $sigio_number, $on ? $sigio_handled : $sigio_ignored, 0, 8);
}

# Whether what the driver has read and not taken yet holds an interrupt.
sub interrupt_read { index($in_buffer, '"interrupt"') >= 0 }

sub start_watching_input {
    vec($input_bits, fileno($protocol_in), 1) = 1;
    $SIG{PROF} = \&on_cpu_time;
    $SIG{IO} = \&on_input;
    my $flags = fcntl($protocol_in, $fcntl{F_GETFL}, 0) or return;
    fcntl($protocol_in, $fcntl{F_SETOWN}, $$) or return;
    fcntl($protocol_in, $fcntl{F_SETFL}, $flags | $fcntl{O_ASYNC}) or return;
    # rt_sigaction(signal, new, old, 8): 8 bytes are the kernel's signal set on these architectures.
    my $number = system_call_number(\%RT_SIGACTION) or return;
    my ($handled, $ignored) = ("\0" x 64, "\0" x 64);    # larger than any struct sigaction
    syscall($number, $SIGIO, 0, $handled, 8) == 0 or return;
    $SIG{IO} = 'IGNORE';
    my $read = syscall($number, $SIGIO, 0, $ignored, 8);
    $SIG{IO} = \&on_input;
    return unless $read == 0 && $ignored ne $handled;
    ($rt_sigaction, $sigio_number) = ($number, $SIGIO);
    ($sigio_handled, $sigio_ignored) = ($handled, $ignored);
    watch_input(0);
}

# SIGIO in user code: see above. It never comes to a forked child: the signal goes to the
# process that F_SETOWN named.
sub on_input {
    $input_arrived = 1;
    stop_at_safe_point() if $user_code;
}

sub on_cpu_time {
    return if forked();
    if (exists $limits{cpu}) {
        if (request_stop($limits{id}, "the code used more than its CPU time limit of $limits{cpu} s", 'cpu')) {
            my $line = '{"jsonrpc":"2.0","method":"limit","params":{"id":' . $limits{id} . ',"limit":"cpu"}}' . "\n";
            if ($user_code && !$sending) {
                write_all($line);
            } else {
                push @pending_notifications, $line;
            }
        }
    }
    stop_at_safe_point();
}

sub request_stop {
    my ($id, $message, $limit) = @_;
    return 0 if $stop || !defined $id || !grep { $_ == $id } @serving;
    $stop = [$id, $message, $limit];
    return 1;
}

# In user code: takes the interrupts that arrived, and dies with a pending stop, once.
sub stop_at_safe_point {
    return unless $user_code && !$sending;
    while ($input_arrived) {
        $input_arrived = 0;
        local $sending = 1;    # reading the protocol: a SIGIO meanwhile only marks the input
        take_interrupts();
    }
    if ($stop && !$stop_raised) {
        $stop_raised = 1;
        die Bond::Interrupted->new($stop->[1], $stop->[2]);
    }
}

# Reads what the protocol's input holds now, without blocking, and takes the interrupt
# notifications out of it; only user code reads here, never the driver's own read. While the code
# runs the host sends nothing else. End of file: the host is gone, the code must not run on
# unattended.
sub take_interrupts {
    while (select(my $ready = $input_bits, undef, undef, 0) > 0) {
        return if forked();    # a forked child: the input is not its to read
        my $n = sysread($protocol_in, $in_buffer, 1 << 20, length $in_buffer);
        quit(1) if defined $n && $n == 0;
        last unless $n;
    }
    return if index($in_buffer, '"interrupt"') < 0;
    my @lines = split /\n/, $in_buffer, -1;
    my $partial = pop @lines;
    $in_buffer = join('', map { "$_\n" } grep { !take_interrupt($_) } @lines) . $partial;
    $newline_free = 0;
}

# Whether $line is an interrupt notification (then taken).
sub take_interrupt {
    my ($line) = @_;
    return 0 if index($line, '"interrupt"') < 0;
    my $message = eval { $json_decode->($json, $line) };
    return 0 unless ref $message eq 'HASH' && ($message->{method} // '') eq 'interrupt' && !exists $message->{id};
    my $params = ref $message->{params} eq 'HASH' ? $message->{params} : {};
    request_stop($params->{id}, $params->{reason} // 'the code was interrupted');
    return 1;
}

# The address space limit (RLIMIT_AS) through prlimit64: Perl has no setrlimit of its own. Needs
# syscall.ph (Debian: in libperl); without it the memory limit is not enforced.
sub address_space_limit {
    my ($new) = @_;
    my $syscall = eval { require 'syscall.ph'; &SYS_prlimit64 } or return undef;
    my $old = "\0" x 16;
    return undef if syscall($syscall, 0, $RLIMIT_AS, defined $new ? pack('QQ', @$new) : 0, $old) != 0;
    return [unpack('QQ', $old)];
}

sub address_space {
    open(my $status, '<', '/proc/self/status') or return 0;
    while (my $line = <$status>) {
        return $1 * 1024 if $line =~ /^VmSize:\s*(\d+) kB/;
    }
    return 0;
}

sub apply_limits {
    my ($id, $limits) = @_;
    %limits = (id => $id);
    return unless ref $limits eq 'HASH';
    if (my $cpu = $limits->{cpu}) {
        $limits{cpu} = $cpu;
        load_subs('Time::HiRes', \$setitimer => 'setitimer') unless $setitimer;
        $setitimer->(ITIMER_PROF, $cpu);
    }
    if (my $memory = $limits->{memory}) {
        $original_address_space //= address_space_limit();
        return unless $original_address_space;
        my ($soft, $hard) = @$original_address_space;
        my $ceiling = $memory_baseline + $memory;
        $ceiling = $hard if $hard < $ceiling;
        $limits{memory} = $memory;
        address_space_limit([$ceiling, $hard]);
    }
}

sub lift_limits {
    $setitimer->(ITIMER_PROF, 0) if exists $limits{cpu};
    address_space_limit($original_address_space) if exists $limits{memory};
    %limits = ();
}

# --- Requests from the host -----------------------------------------------------------------------
sub send_result {
    my ($id, $value, $keep) = @_;
    my $encoded;
    if ($keep) {
        $encoded = encode_kept($value);
    } elsif (defined $value && !ref $value) {
        # The usual results first, as encode_value would write them, without its eval (which
        # only the others can need): an integer, a string of plain printable ASCII.
        my $flags = $sv_flags->($svref_2object->(\$value));
        if (!($flags & B::SVf_POK)) {
            $encoded = "$value" if $flags & B::SVf_IOK;
        } elsif ($value !~ /[^\x20\x21\x23-\x5b\x5d-\x7e]/ && !($has_is_bool && is_bool($value))) {
            $encoded = qq("$value");
        }
    }
    $encoded //= eval { encode_held($value) };
    if (!defined $encoded) {
        my $error = $@;
        if (ref $error eq 'Bond::SerializationError') {
            return send_error($id, -32001, $error->{message});
        }
        return send_error($id, -32001, "the result could not be serialized: $error");
    }
    send_line('{"jsonrpc":"2.0","id":' . $id . ',"result":' . $encoded . '}');
}

sub send_error {
    my ($id, $code, $message, $data) = @_;
    my $text = utf8_text($message) // $message;
    $utf8_upgrade->($text);
    $text =~ s/$not_unicode_scalar/\x{FFFD}/g;
    my $line = '{"jsonrpc":"2.0","id":' . $id . ',"error":{"code":' . $code . ',"message":' . encode_string($text);
    if (defined $data) {
        local $may_hold = 0;    # the host holds nothing of an error: no table entries for it
        my $encoded = eval { encode_value($data) } // encode_value({ type => $data->{type} });
        $line .= ',"data":' . $encoded;
    }
    send_line($line . '}}');
}

# The message and type name of what `die` threw.
sub describe_error {
    my ($error) = @_;
    local $/ = "\n";    # chomp's, whatever user code made it
    return ('Bond::Proxy', "$error") if ref $error eq 'Bond::Proxy';    # its methods are the host's
    if (blessed($error)) {
        my $message = $error->can('message') ? $error->message
            : $overload_method->($error, '""') ? "$error"
            : $error->can('as_string') ? $error->as_string : "$error";
        $message = "$message";
        chomp $message;
        return (ref $error, $message);
    }
    if (ref $error) {
        return (ref $error, "$error");
    }
    my $message = defined $error ? "$error" : 'unknown error';
    chomp $message;
    return ('die', $message);
}

# Where user code died, innermost frame first, the driver's frames left out: noted by the
# __DIE__ handler while user code runs (see note_stack), else (a syntax error) the place the
# message names.
my $died;    # [the error, its frames] of the last die in user code

sub note_stack {
    return unless $user_code;
    my @frames;
    for (my $depth = 0; my @call = caller($depth); ++$depth) {
        next if $call[1] eq DRIVER_FILE;
        my $function = (caller($depth + 1))[3] // 'main';    # the sub the line is in
        $function = 'main' if $function eq '(eval)' || $function =~ /^Bond::/;
        push @frames, { file => $call[1], line => $call[2] + 0, function => $function };
    }
    # (none: the driver passing on an error, or a syntax error, whose message says where)
    $died = [$_[0], \@frames] if @frames;
}

sub stack_of {
    my ($error, $message) = @_;
    my $noted = $died;
    $died = undef;
    if ($noted && (ref $error ? ref $noted->[0] && same_object($error, $noted->[0])
        : !ref $noted->[0] && $noted->[0] eq $error)) {
        return $noted->[1];
    }
    return [] unless $message =~ / at (.+?) line (\d+)[.,]/;
    return [] if $1 eq DRIVER_FILE;
    return [{ file => $1, line => $2 + 0, function => 'main' }];
}

sub send_exception {
    my ($id, $error) = @_;
    if (blessed($error) && $error->isa('Bond::Interrupted')) {
        return send_error($id, -32002, $error->message, { type => ref $error, limit => $error->limit });
    }
    my ($type, $message) = describe_error($error);
    my $data = { type => $type, stack => stack_of($error, $message) };
    if ($trans_except) {
        my $exception = { type => $type, message => $message };
        if (blessed($error) && ref $error ne 'Bond::Proxy' && $error->can('TO_JSON')) {
            my $serialized = eval { $error->TO_JSON };
            if (ref $serialized eq 'HASH') {
                $exception = { type => $type, message => $message, %$serialized };
            } elsif (defined $serialized) {
                $exception->{value} = $serialized;
            }
        } elsif (ref $error eq 'HASH' || ref $error eq 'ARRAY') {
            $exception->{value} = $error;
        }
        $data->{exception} = $exception;
    }
    send_error($id, -32000, $message, $data);
}

# User code as Perl compiles it: from the file named (`perl -e`'s "-e" for none), its first line
# line 1, nothing added after it (a ";" on a line of its own would move a syntax error at the
# end to a line the code does not have).
sub code_from_file {
    my ($code, $file) = @_;
    $file = NO_FILE unless defined $file && !ref $file && length $file;
    $file =~ s/["\n]/_/g;
    return "#line 1 \"$file\"\n" . ($code // '');
}

sub run_code_list {
    my ($code) = @_;
    local $_code = code_from_file($code);
    local $user_code = 1;
    stop_at_safe_point();
    my @result = Bond::_run_list();
    die $@ if $@;
    return @result;
}

# A call's NAME may be a plain sub name: the driver then calls that sub itself, when it is defined
# and has no prototype, rather than compiling `NAME(...)` (a string eval per call). Anything else
# goes through the eval: expressions, methods, Perl's own functions (which win over a sub of the
# same name), undefined subs (Perl's own error), subs with a prototype (which that compilation
# would apply). The sub is looked up on every call, as code may redefine it; only the name's
# check is kept: name => the sub's full name, or '' when NAME is not a plain sub name.
my %plain_name;

sub plain_name {
    my ($name) = @_;
    %plain_name = () if keys %plain_name > 1000;    # names made up anew for each call
    my $full = '';
    if ($name =~ /\A[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*\z/) {
        if (index($name, '::') >= 0) {
            $full = $name if $name !~ /\ACORE::/;
        } elsif (!eval { my $builtin = prototype "CORE::$name"; 1 }) {    # dies unless a builtin
            $full = "main::$name";
        }
    }
    return $plain_name{$name} = $full;
}

sub list_value {
    my @result = @_;
    return undef unless @result;
    return $result[0] if @result == 1;
    return \@result;
}

sub handle_request {
    my ($message) = @_;
    my $id = $message->{id};
    # Not local: after "Out of memory!" the END block still sees the request to answer.
    push @serving, $id;
    my $params = $message->{params} // {};
    $params = {} unless ref $params eq 'HASH';
    my $tagged = $may_hold_tags;    # of this message: answer_request decodes the values
    my $limited = exists $params->{limits};
    apply_limits($id, $params->{limits}) if $limited;
    # watch_input(1), inline: once per request. And whether it was stopped before it started.
    $input_arrived = 1 if interrupt_read();
    if (!$watching && $rt_sigaction) {
        $watching = 1;
        syscall($rt_sigaction, $sigio_number, $sigio_handled, 0, 8);
    }
    my $ok = eval { answer_request($id, $message->{method} // '', $params, $tagged); 1 };
    my $error = $@;
    lift_limits() if $limited;
    pop @serving;
    watch_input(0) if $watching;    # no reply was sent (send_line stops watching)
    if ($stop && $stop->[0] == $id) {
        $stop = undef;
        $stop_raised = 0;
    }
    # A -32002 reply to a request of the driver's with no interrupt of its own (see host_request)
    # stops nothing beyond the request it ended in.
    $stop_raised = 0 if !$stop && !@serving;
    die $error unless $ok;
}

# A get of attribute $name of a held object: the hash's element (an array's, for an index) when
# it exists; else, of an object, a closure calling the method of that name on it; else the element
# (undef), or Perl's own error when $object is no hash.
sub attribute {
    my ($object, $name) = @_;
    scalar_util() unless $reftype;
    my $kind = $reftype->($object) // '';
    if ($kind eq 'HASH') {
        return $object->{$name} if exists $object->{$name};
    } elsif ($kind eq 'ARRAY' && $name =~ /\A-?[0-9]+\z/) {
        return $object->[$name];
    }
    if (blessed($object)) {
        if (my $method = $object->can($name)) {
            return sub { $object->$method(@_) };
        }
        return sub { $object->$name(@_) } if $object->can('AUTOLOAD');
        die qq(Can't locate object method "$name" via package ") . ref($object) . qq(" (nor an element "$name")\n);
    }
    return Bond::_element($object, $name);
}

# A get of a held object itself: a JSON copy. An object without TO_JSON is copied as its hash or
# array (objects in it are held); what is no value (a code reference) is held again.
sub as_value {
    my ($object) = @_;
    my $class = blessed($object) // return $object;
    return $object if $class eq 'Bond::Bytes' || $booleans{$class} || $class eq 'Bond::Proxy'
        || $object->can('TO_JSON') || $object->isa('Math::BigInt') || $object->isa('Math::BigFloat');
    my $kind = $reftype->($object);    # (blessed loaded Scalar::Util)
    return {%$object} if $kind eq 'HASH';
    return [@$object] if $kind eq 'ARRAY';
    return $object;
}

# An error of a request: the code's exception (-32000, -32002), or invalid params (-32602).
sub send_failure {
    my ($id, $error) = @_;
    return send_error($id, -32602, $error->{message}) if ref $error eq 'Bond::InvalidParams';
    return send_exception($id, $error);
}

sub answer_request {
    my ($id, $method, $params, $tagged) = @_;
    if ($method eq 'call') {
        my $args = ref $params->{args} eq 'ARRAY' ? $params->{args} : [];
        my $name = $params->{name} // '';
        my @result = eval {
            decode_tags($args) if $tagged;
            if (my $full = $plain_name{$name} // plain_name($name)) {
                no strict 'refs';
                if (defined &$full) {
                    my $sub = \&$full;
                    if (!defined prototype $sub) {
                        local $user_code = 1;
                        stop_at_safe_point();
                        return Bond::_call($sub, @$args);
                    }
                }
            }
            local @_args = @$args;
            my $arguments = join(',', map { "\$Bond::_args[$_]" } 0 .. $#_args);
            return run_code_list("$name($arguments)");
        };
        # The arguments go before the reply (both references to them): the release of their
        # proxies goes with it.
        delete $params->{args} if $tagged;
        undef $args;
        return send_failure($id, $@) if $@;
        return send_result($id, @result == 1 ? $result[0] : list_value(@result), $params->{keep});
    }
    if ($method eq 'eval') {
        my @result = eval { run_code_list($params->{code} // '') };
        return send_exception($id, $@) if $@;
        return send_result($id, list_value(@result), $params->{keep});
    }
    if ($method eq 'invoke') {
        my $args = ref $params->{args} eq 'ARRAY' ? $params->{args} : [];
        my $name = $params->{method};
        my @result = eval {
            my $object = held_object($params->{object});
            decode_tags($args) if $tagged;
            local $user_code = 1;
            stop_at_safe_point();
            return defined $name ? Bond::_invoke($object, $name, @$args) : Bond::_call($object, @$args);
        };
        delete $params->{args} if $tagged;
        undef $args;
        return send_failure($id, $@) if $@;
        return send_result($id, list_value(@result), $params->{keep});
    }
    if ($method eq 'get') {
        my $name = $params->{name};
        my @result = eval {
            my $object = held_object($params->{object});
            return $params->{keep} ? $object : as_value($object) unless defined $name;
            local $user_code = 1;
            stop_at_safe_point();
            return attribute($object, $name);
        };
        return send_failure($id, $@) if $@;
        return send_result($id, $result[0], $params->{keep});
    }
    if ($method eq 'set') {
        eval {
            my $object = held_object($params->{object});
            my $name = $params->{name};
            die Bond::InvalidParams->new('set needs an attribute name') if !defined $name || ref $name;
            decode_tags($params->{value}) if $tagged;
            local $user_code = 1;
            stop_at_safe_point();
            Bond::_set_element($object, $name, $params->{value});
            1;
        } or return send_failure($id, $@);
        delete $params->{value};
        return send_result($id, undef);
    }
    if ($method eq 'count_objects') {
        return send_result($id, scalar keys %objects);
    }
    if ($method eq 'eval_block') {
        local $_code = code_from_file($params->{code}, $params->{file});
        # All of it in an eval: a stop raised just before or after the code's own eval (while
        # $user_code is set) must end the request, not escape into the driver.
        eval { local $user_code = 1; stop_at_safe_point(); Bond::_run_block(); 1 }
            or return send_exception($id, $@);
        return send_result($id, undef);
    }
    if ($method eq 'export') {
        my $name = $params->{name} // '';
        if ($name !~ /\A(?:[A-Za-z_]\w*)(?:::[A-Za-z_]\w*)*\z/) {
            return send_error($id, -32602, "invalid function name: $name");
        }
        if ($name !~ /::/ && eval { my $builtin = prototype("CORE::$name"); 1 }) {
            return send_error($id, -32602, "$name is a builtin function of Perl: an export may not take its name");
        }
        my $full = $name =~ /::/ ? $name : "main::$name";
        no strict 'refs';
        no warnings 'redefine';
        my $request_start = '"method":"call","params":{"name":' . encode_string($name) . ',"args":';
        *{$full} = sub { call_host($name, $request_start, @_) };
        return send_result($id, undef);
    }
    if ($method eq 'configure') {
        $trans_except = $params->{trans_except} ? 1 : 0;
        return send_result($id, undef);
    }
    return send_error($id, -32601, "unknown method: $method");
}

# --- Calls to the host ----------------------------------------------------------------------------
sub call_host {
    my ($name, $request_start, @args) = @_;
    Bond::Error->throw("$name: exported functions cannot be called from a forked process")
        if forked();
    return host_request($request_start, \@args, '}}');
}

# Sends the host a request and serves the host's requests until its reply: the text after the id
# is $_[0], then the encoded $_[1] (when it is given), then $_[2]. Answers the result; an error
# reply dies as a Bond::Error (a Bond::Interrupted when the host stops the code).
sub host_request {
    my ($start, $value, $end) = @_;
    $end //= '';
    stop_at_safe_point() if $input_arrived || $stop;
    my $encoded = '';
    if (@_ > 1) {
        $encoded = eval { encode_held($value) };
        if (!defined $encoded) {
            my $error = $@;
            die $error if ref $error eq 'Bond::Interrupted';    # in a TO_JSON
            Bond::Error->throw(ref $error eq 'Bond::SerializationError' ? $error->{message} : "$error");
        }
    }
    my $id = ++$next_id;
    my $reply;
    {
        local $user_code = 0;
        send_line('{"jsonrpc":"2.0","id":' . $id . ',' . $start . $encoded . $end, 1);
        $reply = eval { serve($id) };
        # watch_input(1), inline: once per call
        $input_arrived = 1 if interrupt_read();
        if ($rt_sigaction) {
            $watching = 1;
            syscall($rt_sigaction, $sigio_number, $sigio_handled, 0, 8);
        }
        die $@ unless $reply;
    }
    if (exists $reply->{error}) {
        my $error = $reply->{error};
        my $text = ref $error eq 'HASH' ? ($error->{message} // 'error') : 'error';
        if (ref $error eq 'HASH' && ($error->{code} // 0) == -32002) {    # the host is stopping the code
            $stop_raised = 1;
            die Bond::Interrupted->new($text, $stop ? $stop->[2] : undef);
        }
        Bond::Error->throw($text);
    }
    my $result = $reply->{result};
    if ($may_hold_tags) {
        eval { decode_tags($result); 1 } or do {
            my $error = $@;
            Bond::Error->throw($error->{message}) if ref $error eq 'Bond::InvalidParams';
            die $error;
        };
    }
    stop_at_safe_point();    # the host's function returned, but the code was stopped meanwhile
    return $result;
}

# The requests of a proxy (see Bond::Proxy): invoke (method undef: the object itself), get, set.
sub proxy_invoke {
    my ($proxy, $method, @args) = @_;
    return host_request(proxy_request_start($proxy, 'invoke', 'method', $method) . ',"args":', \@args, '}}');
}

sub proxy_get {
    my ($proxy, $name) = @_;
    return host_request(proxy_request_start($proxy, 'get', 'name', $name) . '}}');
}

sub proxy_set {
    my ($proxy, $name, $value) = @_;
    host_request(proxy_request_start($proxy, 'set', 'name', $name) . ',"value":', $value, '}}');
    return;
}

sub proxy_request_start {
    my ($proxy, $method, $key, $name) = @_;
    Bond::Error->throw("a bond proxy cannot be used from a forked process") if forked();
    my $encoded_name = 'null';
    if (defined $name) {
        $encoded_name = eval { encode_string(utf8_text("$name") // "$name") }
            // Bond::Error->throw($@->{message});
    }
    return '"method":"' . $method . '","params":{"object":' . $$proxy->[0] . ',"' . $key . '":' . $encoded_name;
}

# --- The serving loop -----------------------------------------------------------------------------
sub read_message {
    while (1) {
        my $end = index($in_buffer, "\n", $newline_free);
        if ($end >= 0) {
            $newline_free = 0;
            my $line = substr($in_buffer, 0, $end + 1, '');
            next if ord($line) != 123 && $line =~ /\A\s*\z/;    # 123: "{", the usual start
            my $message = eval { $json_decode->($json, $line) };
            # Only a line that holds a tag's key (which can only hide its letters in \u escapes)
            # can hold a tag: the others need no walk through decode_tags. "$ alone is common in
            # Perl code: the keys are looked for only where it is.
            $may_hold_tags = index($line, '\\u') >= 0
                || index($line, '"$') >= 0 && $line =~ /"\$(?:bytes|code|obj|yours)"/;
            if (!defined $message || ref $message ne 'HASH') {
                send_line('{"jsonrpc":"2.0","id":null,"error":{"code":' . (defined $message ? -32600 : -32700)
                    . ',"message":' . encode_string(defined $message ? 'not a message object' : 'parse error') . '}}');
                next;
            }
            return $message;
        }
        # A long line comes in many reads (64 KiB each, a pipe's size): search only what is new.
        $newline_free = length $in_buffer;
        my $n = sysread($protocol_in, $in_buffer, 1 << 20, length $in_buffer);
        if (!defined $n) {
            next if interrupted_call();
            return undef;
        }
        return undef if $n == 0;
    }
}

# Serves requests until the reply to request $wait_id arrives (undef: until end-of-file). A reply
# to any other id is fatal: the driver never sent that request.
sub serve {
    my ($wait_id) = @_;
    while (defined(my $message = read_message())) {
        if (defined $message->{method}) {
            if (defined $message->{id}) {
                handle_request($message);
            } elsif ($message->{method} eq 'interrupt' && ref $message->{params} eq 'HASH') {
                # while an exported function runs: see call_host
                request_stop($message->{params}{id}, $message->{params}{reason} // 'the code was interrupted');
            } elsif ($message->{method} eq 'release' && ref $message->{params} eq 'HASH'
                && ref $message->{params}{objects} eq 'ARRAY') {
                delete @objects{ grep { defined && !ref } @{ $message->{params}{objects} } };
            }
            next;
        }
        my $id = $message->{id};
        return $message if defined $wait_id && defined $id && !ref $id && $id eq $wait_id;
        fail('a reply to a request never sent: ' . substr($json_encode->($json, $message), 0, 200));
    }
    return undef if !defined $wait_id;
    quit(0);    # the host closed the channel while a call to it was pending
}

# --- Start and end --------------------------------------------------------------------------------
# Ends the process at once, without END blocks or destructors (POSIX::_exit).
sub quit {
    require POSIX;
    $module_subs{'POSIX::_exit'}->($_[0]);
}

# Ends the driver for a fault of the protocol: the reason on the original stderr, status 70.
sub fail {
    syswrite($original_stderr, "bond driver: $_[0]\n");
    quit(70);
}

sub main {
    $SIG{__DIE__} = \&note_stack;
    choose_json();
    fcntl_numbers();
    open_channels();
    mark_driver_process();
    start_watching_input();
    $memory_baseline = address_space();
    syswrite($original_stderr, "\n__bond_driver_ready__\n");
    write_all("\n");
    send_line('{"jsonrpc":"2.0","method":"ready","params":{"protocol":' . PROTOCOL_VERSION
        . ',"lang":"Perl","version":' . encode_string(sprintf('%vd', $^V)) . ',"pid":' . $$
        . '}}');
    serve(undef);
}

END {
    if ($protocol_out && !forked()) {
        # The process is ending (exit in user code, or the driver's own): the host closes the
        # protocol's input once it sees the end, which must raise no SIGIO, whose handler Perl's
        # global destruction may already have taken away (the process would die of SIGIO).
        my $flags = $protocol_in && fcntl($protocol_in, $fcntl{F_GETFL}, 0);
        fcntl($protocol_in, $fcntl{F_SETFL}, $flags & ~$fcntl{O_ASYNC}) if $flags;
        # Perl ends after "Out of memory!": under a memory limit, that is the request's answer.
        if (@serving && exists $limits{memory} && unforwarded('stderr') =~ /^Out of memory/m) {
            address_space_limit($original_address_space);
            send_line('{"jsonrpc":"2.0","id":' . $serving[-1] . ',"error":{"code":-32002,"message":'
                . '"Out of memory!","data":{"type":"die","limit":"memory","fatal":true}}}');
        }
        drain_output_files();
    }
}

Bond::main();
exit 0;

# Calls the sub of a plain NAME (see plain_name) as `NAME(...)` compiled as user code would: in
# package main, from the file "-e" (what `caller` and Carp see, as for code sent without a
# file), with no strict or warnings of the driver's. (Compiled before main runs, as every sub;
# last in the file, so that the `#line`s name no line of the driver's own.)
package main;
{
    no strict;
    no warnings;
#line 1 "-e"
    sub Bond::_call { my $sub = shift; &$sub }
#line 1 "-e"
    sub Bond::_invoke { my $object = shift; my $method = shift; $object->$method(@_) }
}
{
    use strict 'refs';
    no warnings;
#line 1 "-e"
    sub Bond::_element { $_[0]->{$_[1]} }
#line 1 "-e"
    sub Bond::_set_element { my ($object, $name, $value) = @_; if (Bond::is_array($object) && $name =~ /\A-?[0-9]+\z/) { $object->[$name] = $value } else { $object->{$name} = $value } return }
}
