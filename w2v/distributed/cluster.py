"""The cluster: reaching Dask, and what every task on a worker shares (its threads, its
memory, its progress events, one lock for numba's parallel kernels)."""

import contextlib
import json
import logging
import os
import threading
import uuid

from ..errors import InputError, OptionError, W2VError

log = logging.getLogger("w2v")

DASK_LOGGERS = ("distributed", "distributed.client", "tornado", "tornado.application",
                "asyncio", "bokeh")  # Dask's config gives the second and fourth their own level
SILENT = logging.CRITICAL + 1  # above every level Dask logs at

DASK_MISSING = 'counting on a Dask cluster needs Dask: pip install "w2v[dask]"'
TASK_LOCK = threading.Lock()  # numba's parallel kernels run one task at a time per process


# --------------------------------------------------------------------------- the cluster


def import_distributed():
    """The `distributed` module, or an OptionError naming the extra to install."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise OptionError(DASK_MISSING) from None
    return distributed


def is_address(value):
    """Whether `value` names a scheduler: tcp://HOST:PORT (any scheme), HOST:PORT, or a
    scheduler file (JSON with an "address")."""
    if not isinstance(value, str) or not value:
        return False
    if "://" in value:
        return True
    if os.path.isfile(value):
        try:
            with open(value, encoding="utf-8") as f:
                return "address" in json.load(f)
        except (OSError, ValueError, TypeError, UnicodeDecodeError):
            return False
    host, _, port = value.rpartition(":")
    return bool(host) and port.isdigit()


@contextlib.contextmanager
def connect(dask=None, workers=None):
    """A `distributed.Client`: `dask` itself if it is one, one to the scheduler at `dask`
    (an address or a scheduler file), or to a new LocalCluster of `workers` processes
    (default: one per physical core) that is shut down on leaving."""
    distributed = import_distributed()
    if isinstance(dask, distributed.Client):
        yield dask
        return
    quiet = log.level > logging.DEBUG or not log.isEnabledFor(logging.DEBUG)
    # Dask's own logging (a failed task's traceback, heartbeats to a closed comm, asyncio's
    # unretrieved task exceptions) would run through the progress bar and repeat, as a
    # traceback, the one-line error w2v reports; it is shown with --verbose only.
    loggers = [logging.getLogger(name) for name in DASK_LOGGERS]
    previous = [logger.level for logger in loggers]
    if quiet:
        for logger in loggers:
            logger.setLevel(SILENT)
    try:
        if dask:
            try:
                if os.path.isfile(dask):
                    client = distributed.Client(scheduler_file=dask, timeout="20s")
                else:
                    client = distributed.Client(dask, timeout="20s")
            except (OSError, TimeoutError, ValueError) as e:
                raise InputError(f"cannot reach the Dask scheduler at {dask}: {e}") from None
            with client:
                _log_cluster(client, dask)
                yield client
        else:
            from ..runtime.threads import usable_cores

            n = workers or usable_cores()
            if n < 1:
                raise OptionError(f"--workers must be at least 1, got {n}")
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True,
                dashboard_address=":0" if _has_bokeh() else None,
                silence_logs=SILENT if quiet else logging.WARNING)
            with cluster, distributed.Client(cluster) as client:
                _log_cluster(client, "a local cluster")
                yield client
    finally:
        for logger, level in zip(loggers, previous):
            logger.setLevel(level)


def _has_bokeh():
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def cluster_workers(client):
    """{address: info} of the workers the scheduler has now. Asked of the scheduler itself:
    `Client.scheduler_info` may answer with what its periodic refresh fetched, which lists
    no workers."""
    try:
        info = client.sync(client.scheduler.identity, n_workers=-1)
    except TypeError:  # a scheduler older than the n_workers argument lists them all
        info = client.sync(client.scheduler.identity)
    return dict(info.get("workers", {}))


def _log_cluster(client, where):
    n = len(cluster_workers(client))
    log.info("dask: %d worker(s) at %s", n, where)
    log.debug("dask dashboard: %s", client.dashboard_link if _has_bokeh() else
              "none (install bokeh for one)")


def workers_per_host(client):
    hosts = {}
    for info in cluster_workers(client).values():
        host = info.get("host", "")
        hosts[host] = hosts.get(host, 0) + 1
    return hosts


def worker_threads(threads, hosts):
    """Numba threads for a task: `threads`, else this host's cores shared by its workers."""
    if threads is not None:
        return threads
    from ..runtime.threads import usable_cores

    try:
        from distributed import get_worker

        address = get_worker().address
        n = hosts.get(address.split("://")[-1].rsplit(":", 1)[0], 1)
    except (ImportError, ValueError):
        n = 1
    return max(1, usable_cores() // max(1, n))


def worker_memory_gb(memory_gb):
    """--memory for a task: as given, else half of what the worker may use (its memory
    limit, or the memory available)."""
    if memory_gb is not None:
        return memory_gb
    from ..runtime.runs import default_memory_gb

    memory = default_memory_gb()
    try:
        from distributed import get_worker

        limit = get_worker().memory_manager.memory_limit
        if limit:
            memory = min(memory, max(0.25, limit / 2 / 1e9))
    except (ImportError, ValueError, AttributeError):
        pass
    return memory


def report(topic, n):
    """Tell the client's progress bar that n more units are done (no-op outside a worker)."""
    if topic is None or n <= 0:
        return
    try:
        from distributed import get_worker

        get_worker().log_event(topic, int(n))
    except (ImportError, ValueError):
        pass


class Progress:
    """The client's tqdm bar, fed by the workers' events on one topic."""

    def __init__(self, client, enabled, total, unit, desc):
        from ..runtime.progress import Bar

        self.client = client
        self.topic = f"w2v-progress-{uuid.uuid4().hex}" if enabled else None
        self.bar = Bar(enabled, total, unit=unit, desc=desc)
        if enabled:
            client.subscribe_topic(self.topic, self._event)

    def _event(self, event):
        _, n = event
        self.bar.update(n)

    def close(self):
        if self.topic is not None:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)
        self.bar.close()


def check_futures(distributed, futures):
    """Wait for futures; raise the error of the first (in text order) that failed."""
    distributed.wait(futures)
    for future in futures:
        if future.status == "error":
            error = future.exception()
            if isinstance(error, W2VError):
                raise error
            if type(error).__name__ == "KilledWorker":
                raise W2VError(f"Dask workers kept dying on one task ({error}); "
                               "is --memory above what a worker may use?") from None
            raise error
        if future.status == "cancelled":
            raise W2VError("a Dask task was cancelled (did the cluster shut down?)")


def submit(client, name, token, i, func, *args, **kwargs):
    return client.submit(func, *args, key=f"w2v-{name}-{token}-{i}", pure=False, **kwargs)
