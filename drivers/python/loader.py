# The Python driver's loader: the bootstrap's first line (src/bond/driver_registry.cpp) reads this
# file raw from stdin and runs it with DRIVER_SIZE set; it reads the driver's source that follows
# and runs it, from a cache of its compiled code where it can (compiling driver.py takes 10-15 ms
# of every start, unmarshalling it 0.5 ms).
#
# The cache is ~/.cache/bond/python, one file per driver and Python version, written by the first
# start that misses it. It is code the interpreter runs, so it is trusted as the user's own
# site-packages are: only where Python itself would run code from the user's home
# (site.ENABLE_USER_SITE: not with -s or -I, not setuid), only from a directory and a file owned by
# the user and writable by nobody else, opened without following a link. A file holds the driver's
# source it was compiled from, which must equal this one, behind the Python version's magic number
# and optimization level. Any failure (no home, a read-only or full disk, another user's
# directory: a sandbox, sudo, a container) means compiling the source, silently, as before. (A
# sandbox's home is an empty /tmp: each start writes a cache that the next one does not see.)
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
    import site

    if not site.ENABLE_USER_SITE or sys.implementation.cache_tag is None:
        return None
    path = os.path.join(os.path.expanduser("~"), ".cache", "bond", "python")
    if not os.path.isabs(path):
        return None
    try:
        directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        if sys.dont_write_bytecode:
            return None
        os.makedirs(path, mode=0o700, exist_ok=True)
        directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    if not owned_alone(os.fstat(directory)):
        os.close(directory)
        return None
    return directory


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
        name = "driver-%s-%08x.bin" % (sys.implementation.cache_tag, binascii.crc32(source))
        code = cached_code(directory, name, header, source)
        if code is None:
            code = compile(source, "<bond-driver>", "exec")
            if not sys.dont_write_bytecode:
                store(directory, name, header + source + marshal.dumps(code))
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


exec(load(read_driver()), {"__name__": "__bond_driver__"})
