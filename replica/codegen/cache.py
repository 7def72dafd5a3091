"""On-disk cache of generated solver modules.

A module is stored as a readable Python file whose first line holds its key (what it was
generated from) and the sha256 of the rest of the file:

    # replica-generated key=<sha256 of model fingerprint, backend, versions> sha256=<of the body>

It is loaded only when both match, so a truncated, edited or stale file is regenerated.
Files are written to a temporary name in the same folder and moved into place with
``os.replace`` (atomic on POSIX): two processes compiling the same model at once each write
a complete file and the last one wins.  The folder is ``$REPLICA_CACHE_DIR``, else
``$XDG_CACHE_HOME/replica``, else ``~/.cache/replica``; when that folder cannot be used (it is
a file, or cannot be created or written) a temporary folder of this process is used instead,
with one warning on stderr.

``generating(key, name)`` holds an exclusive lock per key (``flock`` on ``<file>.lock``) while a
module is generated, so that two processes wanting the same model (test workers, parallel
commands) compile it once: the second waits, then finds the file written by the first.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:                                # pragma: no cover - not POSIX: no locking
    fcntl = None

import numpy as np
import sympy as sp

__all__ = ["cache_dir", "fingerprint", "model_key", "load", "store", "generating", "CODEGEN_VERSION"]

#: bumped when the file format changes; code changes are caught by ``_code_hash``
CODEGEN_VERSION = "1"
_CODE_HASH = None


#: parts of the package that only *use* generated modules (the solver, phase diagrams, the
#: command line, simulations, plots): none of them is imported by the derivation or the code
#: generator, so their source does not enter the key and editing them keeps the cache
CONSUMERS = ("solve", "phase", "cli", "sims", "plotting.py", "progress.py", "api.py", "__main__.py")


def _code_hash() -> str:
    """sha256 of the package's own source that generated modules come from (all of it but
    ``CONSUMERS``): any change to the derivation or the code generator gives new keys, so a
    cache written by another version is never loaded."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parents[1]
        for f in sorted(root.rglob("*.py")):
            if f.relative_to(root).parts[0] in CONSUMERS:
                continue
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


_FALLBACK: dict = {}


def _configured_dir() -> Path:
    d = os.environ.get("REPLICA_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "replica"


def _usable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return d.is_dir() and os.access(d, os.W_OK | os.X_OK)


def cache_dir() -> Path:
    """The configured cache folder, or (when it is unusable) a temporary one, with a warning."""
    d = _configured_dir()
    if _usable(d):
        return d
    if d not in _FALLBACK:
        _FALLBACK[d] = Path(tempfile.mkdtemp(prefix="replica-cache-"))
        print(f"replica: warning: the cache folder {str(d)!r} is not usable (a file, or not writable); "
              f"using {str(_FALLBACK[d])!r} for this run (set REPLICA_CACHE_DIR to a writable folder)",
              file=sys.stderr)
    return _FALLBACK[d]


def fingerprint(obj) -> str:
    """A stable text form of a component (or model): class names and SymPy ``srepr`` of its fields."""
    from .._component import Component
    if isinstance(obj, sp.Basic):
        return sp.srepr(obj)
    if isinstance(obj, Component):
        fields = {k: v for k, v in vars(obj).items() if k != "domains"}
        inner = ",".join(f"{k}={fingerprint(v)}" for k, v in sorted(fields.items()))
        doms = ",".join(f"{s.name}:{d}" for s, d in sorted(obj.domains.items(), key=lambda kv: kv[0].name))
        return f"{type(obj).__module__}.{type(obj).__qualname__}({inner};{doms})"
    if isinstance(obj, np.ndarray):
        return f"ndarray{obj.shape}:{hashlib.sha256(np.ascontiguousarray(obj, dtype=float).tobytes()).hexdigest()}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(fingerprint(v) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{k}:{fingerprint(v)}" for k, v in sorted(obj.items(), key=str)) + "}"
    return repr(obj)


def model_key(model, backend: str, part: str = "main") -> str:
    from .. import __version__
    parts = [CODEGEN_VERSION, __version__, _code_hash(), sp.__version__, backend, part, str(model.hidden_units),
             fingerprint(model.prior), fingerprint(model.student_prior), fingerprint(model.teacher),
             fingerprint(model.learning), fingerprint(model.features)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _path(key: str, name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40]
    return cache_dir() / f"{safe}-{key[:24]}.py"


def _header(key: str, body: str) -> str:
    return f"# replica-generated key={key} sha256={hashlib.sha256(body.encode()).hexdigest()}\n"


def load(key: str, name: str) -> str | None:
    """The cached body for ``key``, or None when absent, stale, truncated or edited."""
    p = _path(key, name)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    head, _, body = text.partition("\n")
    if head + "\n" != _header(key, body):
        return None
    return body


def store(key: str, name: str, body: str) -> Path:
    """Write atomically; returns the path."""
    p = _path(key, name)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=p.stem + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(_header(key, body) + body)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


@contextlib.contextmanager
def generating(key: str, name: str):
    """Hold the cross-process lock of ``key`` (an exclusive ``flock`` on ``<file>.lock`` next to
    the module's file) for the body of the ``with``: generate-and-store there after a second
    ``load``, so that a process that waited finds the module written by the one that held the
    lock.  The lock goes with the process if it dies; where no lock can be taken (no ``fcntl``,
    a read-only folder) the body runs unlocked: two processes then each write a complete file
    (``store`` is atomic), as without the lock."""
    p = _path(key, name)
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(str(p.with_suffix(".lock")), os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
