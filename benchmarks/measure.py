"""Measuring helpers shared by the benchmark scripts."""

import os
import tempfile


def child_peak_kb(command):
    """(command wrapped to measure its peak RSS, a function giving that peak in KB).

    A child's own ru_maxrss is no good here: it starts at the parent's high-water mark
    (fork and vfork fold the parent's RSS into it), so GNU time, a small process, runs the
    command and reports the peak of its child alone. Without GNU time, ru_maxrss is used.
    """
    if not os.path.exists("/usr/bin/time"):
        return command, None
    fd, path = tempfile.mkstemp(prefix="w2v-bench-rss-")
    os.close(fd)

    def read():
        with open(path) as f:
            kb = int(f.read().split()[-1])
        os.remove(path)
        return kb

    return ["/usr/bin/time", "-f", "%M", "-o", path, *command], read
