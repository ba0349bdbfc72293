"""The PEP 517 backend of bond-client, standard library only: a pure-Python wheel of the
packages bond_client and bond, with the metadata of pyproject.toml's [project] table (whose
few fields are read with a line parser: tomllib is Python 3.11's)."""
import base64
import hashlib
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("bond_client", "bond")


def _project():
    fields = {}
    section = None
    with open(os.path.join(ROOT, "pyproject.toml")) as toml:
        for line in toml:
            header = re.match(r"\[(.+)\]\s*$", line)
            if header:
                section = header.group(1)
                continue
            field = re.match(r'(\w[\w-]*)\s*=\s*"(.*)"\s*$', line)
            if section == "project" and field:
                fields[field.group(1)] = field.group(2)
    return fields


def _metadata():
    project = _project()
    with open(os.path.join(ROOT, "README.md")) as readme:
        description = readme.read()
    return (f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
            f"Summary: {project['description']}\nRequires-Python: {project['requires-python']}\n"
            f"Description-Content-Type: text/markdown\n\n{description}")


def _dist_info():
    project = _project()
    return f"{project['name'].replace('-', '_')}-{project['version']}"


def _sources():
    for package in PACKAGES:
        for directory, _, files in os.walk(os.path.join(ROOT, package)):
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    yield path, os.path.relpath(path, ROOT)


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, _dist_info() + ".dist-info")
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w") as metadata:
        metadata.write(_metadata())
    return os.path.basename(info)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{_dist_info()}-py3-none-any.whl"
    info = _dist_info() + ".dist-info"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        def add(archive_name, data):
            wheel.writestr(archive_name, data)
            record.append(_record_line(archive_name, data))
        for path, archive_name in _sources():
            with open(path, "rb") as source:
                add(archive_name, source.read())
        add(f"{info}/METADATA", _metadata().encode())
        add(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bond-client wheel_builder\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "".join(record) + f"{info}/RECORD,,\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    name = _dist_info().replace("_", "-", 0)
    with tarfile.open(os.path.join(sdist_directory, f"{name}.tar.gz"), "w:gz") as sdist:
        for path in ["pyproject.toml", "README.md", "build_backend/wheel_builder.py"]:
            sdist.add(os.path.join(ROOT, path), f"{name}/{path}")
        for path, archive_name in _sources():
            sdist.add(path, f"{name}/{archive_name}")
    return f"{name}.tar.gz"
