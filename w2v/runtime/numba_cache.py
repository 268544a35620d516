"""Where numba caches w2v's compiled kernels: a user cache directory, never the package itself.

numba's default writes cache files beside the sources, into site-packages/w2v/__pycache__.
Uninstalling w2v leaves that folder behind, and the leftover then shadows a later editable
install as a namespace package (`import w2v` finds an empty `w2v`). So w2v points numba at
$XDG_CACHE_HOME/w2v/numba (else ~/.cache/w2v/numba), or a temporary directory where that
cannot be created, unless the user set NUMBA_CACHE_DIR. `w2v/__init__.py` does this before
any module imports numba; this module itself never imports numba.
"""

import os
import sys

ENV = "NUMBA_CACHE_DIR"


def user_cache_dir():
    """$XDG_CACHE_HOME/w2v/numba, else ~/.cache/w2v/numba (None if there is no home)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec says to ignore a relative value
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "w2v", "numba")


def _temporary_cache_dir():
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"w2v-{getattr(os, 'getuid', lambda: 'user')()}",
                        "numba")


def _writable_dir(path):
    """Create `path` if needed; whether numba can write cache files there."""
    if path is None:
        return False
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def use_user_cache():
    """Point numba's cache at w2v's cache directory, unless NUMBA_CACHE_DIR is already set.

    Must run before numba is imported (numba reads the variable at import); if numba is
    already loaded, its config is updated too. Returns the directory, or None when neither
    the user cache nor a temporary directory is writable (numba's default then applies).
    """
    path = os.environ.get(ENV)
    if not path:
        for candidate in (user_cache_dir, _temporary_cache_dir):  # the second only if needed
            path = candidate()
            if _writable_dir(path):
                break
        else:
            return None
        os.environ[ENV] = path
    numba = sys.modules.get("numba")
    config = getattr(numba, "config", None)
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = path
    return path


def kernels_cached(*kernels):
    """Whether numba's cache holds an index for every one of these `@njit(cache=True)` kernels.

    A hint for logging "compiling kernels" only: numba still checks each entry against its
    source when it loads it.
    """
    for kernel in kernels:
        index = getattr(getattr(getattr(kernel, "_cache", None), "_cache_file", None),
                        "_index_path", None)
        if index is None or not os.path.exists(index):
            return False
    return True
