"""Thread defaults: one per physical core, so hyper-threads are not oversubscribed."""

import os

from w2v import threads


def test_hyperthreads_of_one_core_count_once(tmp_path, monkeypatch):
    # cpus 0/2 and 1/3 are sibling pairs; cpu 3 is outside the affinity mask
    siblings = {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}
    for cpu, text in siblings.items():
        (tmp_path / f"cpu{cpu}").write_text(text + "\n")
    monkeypatch.setattr(threads, "SIBLINGS", str(tmp_path / "cpu{cpu}"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert threads.usable_cores() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2})
    assert threads.usable_cores() == 1


def test_unreadable_topology_counts_every_usable_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "SIBLINGS", str(tmp_path / "missing{cpu}"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 5})
    assert threads.usable_cores() == 4
