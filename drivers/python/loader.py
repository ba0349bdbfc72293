# The Python driver's loader: the bootstrap's first line (src/bond/driver_registry.cpp) reads this
# file raw from stdin and runs it with DRIVER_SIZE set; it reads the driver's source that follows
# and runs it, from a cache of its compiled code where it can (compiling driver.py takes 10-15 ms
# of every start, unmarshalling it 0.5 ms).
#
# The cache is ~/.cache/bond/python (XDG_CACHE_HOME is not used: a variable more that could point
# elsewhere), one file per Python version (driver-<tag>-opt-<N>-<crc>.bin: the -O level, the
# driver's checksum), written by the first start that misses it; writing one removes the others
# of that version (an older driver's, another -O level's) and temporary files older than a
# minute. It is code the interpreter runs, so it is trusted as the user's own site-packages are:
# only where Python itself would run code from the user's home (not with -s, -I or
# PYTHONNOUSERSITE, not setuid or setgid; in a venv too, where site turns user site-packages off
# for another reason), only under a home owned by the user (not root's with another's HOME: sudo
# -E), only through .cache, bond and python opened one at a time without following a link, each
# owned by the user and writable by nobody else (made 0700 where missing), and only from a file
# that is the same. A file holds the driver's source it was compiled from, which must equal this
# one, behind the Python version's magic number and optimization level. Any failure (no home, a
# read-only or full disk, another user's directory: a sandbox, sudo, a container) means compiling
# the source, silently, as before. (A sandbox's home is an empty /tmp: each start writes a cache
# that the next one does not see.)
import os
import sys

if sys.flags.no_site:  # -S keeps site's interactive hook away (readline, rlcompleter: 20-30 ms)
    import site

    site.main()


def read_driver():
    source = b""
    while len(source) < DRIVER_SIZE:
        chunk = os.read(0, DRIVER_SIZE - len(source))
        if not chunk:
            os._exit(70)
        source += chunk
    return source


def cache_directory():
    """The cache's directory, opened: None where there must be none."""
    flags = sys.flags
    if (flags.no_user_site or flags.isolated or os.getuid() != os.geteuid()
            or os.getgid() != os.getegid() or sys.implementation.cache_tag is None):
        return None  # where Python itself would not run code from the user's home
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        return None
    directory = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if os.fstat(directory).st_uid != os.geteuid():  # root with another's HOME (sudo -E)
            return None
        for part in (".cache", "bond", "python"):  # a step at a time, following no link
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                dir_fd=directory)
            except FileNotFoundError:
                if sys.dont_write_bytecode:
                    return None
                try:
                    os.mkdir(part, 0o700, dir_fd=directory)
                except FileExistsError:  # another start made it meanwhile
                    pass
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                dir_fd=directory)
            os.close(directory)
            directory = child
            if not owned_alone(os.fstat(directory)):
                return None
        result, directory = directory, None
        return result
    finally:
        if directory is not None:
            os.close(directory)


def owned_alone(status):
    return status.st_uid == os.geteuid() and not status.st_mode & 0o022


def load(source):
    """The driver's code: from the cache, else compiled (and cached)."""
    try:
        directory = cache_directory()
    except Exception:
        directory = None
    if directory is None:
        return compile(source, "<bond-driver>", "exec")
    try:
        import binascii
        import marshal

        magic = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER
        header = magic + bytes([sys.flags.optimize]) + len(source).to_bytes(8, "little")
        prefix = "driver-%s-" % (sys.implementation.cache_tag,)
        name = "%sopt-%d-%08x.bin" % (prefix, sys.flags.optimize, binascii.crc32(source))
        code = cached_code(directory, name, header, source)
        if code is None:
            code = compile(source, "<bond-driver>", "exec")
            if not sys.dont_write_bytecode:
                store(directory, name, header + source + marshal.dumps(code))
                clean(directory, prefix, name)
        return code
    except Exception:
        return compile(source, "<bond-driver>", "exec")
    finally:
        os.close(directory)


def cached_code(directory, name, header, source):
    """The code of a cache file compiled from `source`, or None."""
    import marshal

    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except FileNotFoundError:
        return None
    with open(fd, "rb") as file:
        status = os.fstat(fd)
        if not owned_alone(status) or status.st_mode & 0o170000 != 0o100000:  # a regular file
            return None
        data = file.read()
    start = len(header) + len(source)
    if data[:len(header)] != header or data[len(header):start] != source:
        return None
    try:
        return marshal.loads(memoryview(data)[start:])
    except (EOFError, ValueError, TypeError):  # damaged: written again
        return None


def store(directory, name, data):
    """Writes a cache file whole: under a name of its own, renamed to its own when complete."""
    temporary = "%s.%d.tmp" % (name, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                 dir_fd=directory)
    try:
        with open(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        os.unlink(temporary, dir_fd=directory)
        raise


def clean(directory, prefix, kept):
    """Removes the files of other drivers (or -O levels) of this Python version, and temporary
    files a start left behind more than a minute ago: the cache holds one file per version."""
    import time

    for entry in os.listdir(directory):
        try:
            if entry.startswith(prefix) and entry.endswith(".bin") and entry != kept:
                os.unlink(entry, dir_fd=directory)
            elif entry.endswith(".tmp"):
                status = os.stat(entry, dir_fd=directory, follow_symlinks=False)
                if status.st_mtime < time.time() - 60:
                    os.unlink(entry, dir_fd=directory)
        except OSError:
            pass


exec(load(read_driver()), {"__name__": "__bond_driver__"})
