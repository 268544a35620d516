"""The lifecycle word2vec and GloVe models share: checkpoints, what a model was trained on,
and the rules for training it on again.

A model of either family is a value with `config`, `vocab`, `position`, `losses` and
`train_seconds`; its file holds those in a JSON header beside its matrices (`model_file`).
`Checkpoints` decides when a training loop saves it; `corpus_record`/`counts_record`
fingerprint what it trains on, so that a resumed run refuses other text or counts; and a
resumed run keeps the options it was made with (`refuse_changed_options`).
Pure Python and numpy: reading a model's options never imports numba.
"""

import dataclasses
import hashlib
import logging
import os
import time

import numpy as np

from .errors import InputError, OptionError
from .files.model_file import ModelFile, write_model
from .runtime import signals

log = logging.getLogger("w2v")

CHECKPOINT_EVERY = 600.0  # seconds between checkpoints, by default


class Checkpoints:
    """When a training loop saves its model: at every epoch end, every `every` seconds,
    and when SIGINT/SIGTERM is pending (so an interrupted run leaves a last checkpoint);
    then a pending signal is raised. Also keeps `model.train_seconds` up to date.

    `save(model, path)` writes the model; with `path` None nothing is saved, but signals
    are still raised at the launch boundary.
    """

    def __init__(self, model, save, path, every):
        self.model, self.save, self.path, self.every = model, save, path, every
        self.started = self.last_save = time.perf_counter()

    def seconds(self):
        """Training seconds of the model so far, this run included."""
        return self.model.train_seconds + time.perf_counter() - self.started

    def after_launch(self, epoch_ended):
        """Call after every launch; returns whether it saved."""
        saved = False
        now = time.perf_counter()
        if self.path is not None and (signals.pending() is not None or epoch_ended
                                      or now - self.last_save >= self.every):
            self._count_time(now)
            self.save(self.model, self.path)
            self.last_save = time.perf_counter()
            log.debug("checkpoint: %s (%.3f s)", self.path, self.last_save - now)
            saved = True
        signals.check()
        return saved

    def close(self):
        self._count_time(time.perf_counter())

    def _count_time(self, now):
        self.model.train_seconds += now - self.started
        self.started = now


# --------------------------------------------------------------------------- model files


def write_checkpoint(path, family, model, arrays, omit_zero=(), **records):
    """Write `model` (options, position, losses, `records` such as its corpus, training
    time, vocabulary and `arrays`) to one model file, atomically. Position fields named in
    `omit_zero` are left out while 0 (their default), so files that do not use them keep
    their bytes."""
    position = {name: value for name, value in dataclasses.asdict(model.position).items()
                if not (name in omit_zero and value == 0)}
    header = {"config": model.config.to_dict(), "position": position,
              "losses": model.losses, **records,
              "train_seconds": round(model.train_seconds, 3)}
    write_model(path, family, header, model.vocab.words, model.vocab.counts, arrays)


def read_checkpoint(path, family, what, config_type, position_type, names, mmap=False):
    """Read a model file of `family` (`what` names it in the message for another family);
    its arrays memory-mapped read-only with `mmap`.

    Returns (config, vocab, arrays by name, fields, header): `fields` are the keyword
    arguments every model takes beside them (position, losses, corpus, train_seconds),
    `header` the file's JSON header for what a family adds. Anything
    unreadable (options, position, training record, vocabulary and its counts, a missing
    array) is a one-line InputError, raised before any corpus is read.
    """
    from .corpus.vocab import Vocab

    with ModelFile(path) as file:
        if file.family != family:
            raise InputError(f"{path} is a {file.family} model, not a {what} model")
        header = file.header
        check_header(path, header, position_type)
        try:
            config = config_type.from_dict(header["config"])
            position = position_type(**header["position"])
        except (OptionError, KeyError, TypeError) as e:
            raise InputError(f"cannot load {path}: its options are not valid ({e})") from None
        try:
            vocab = Vocab(file.words(), file.array("counts"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"cannot load {path}: its vocabulary is damaged ({e})") from None
        if len(vocab) and (vocab.counts.min() < 0 or vocab.counts.sum() <= 0):
            raise InputError(f"cannot load {path}: its word counts are damaged (they must be "
                             f"non-negative with a positive total)")
        arrays = {name: file.array(name, mmap=mmap) for name in names}
    train_seconds = header.get("train_seconds")
    fields = dict(position=position, losses=list(header.get("losses") or []),
                  corpus=header.get("corpus"),
                  train_seconds=0.0 if train_seconds is None else float(train_seconds))
    return config, vocab, arrays, fields, header


def check_header(path, header, position_type=None):
    """InputError unless the fields of a model file's header that the lifecycle and `w2v
    info` read have their types: `config` a table; `position` a table of numbers (counts
    where `position_type`'s field is an int); `train_seconds` a number of seconds;
    `losses` a list of tables, each with its epoch and a loss or cost; `corpus` and
    `counts` tables of counts, a fingerprint and the inputs."""
    problem = header_problem(header, position_type)
    if problem is not None:
        raise InputError(f"cannot load {path}: its header is damaged ({problem})")


def header_problem(header, position_type=None):
    """What `check_header` finds wrong with `header`, in a few words, or None."""
    if not isinstance(header.get("config"), dict):
        return f"config is {_shown(header.get('config'))}, not a table of options"
    position = header.get("position")
    if position is not None or position_type is not None:
        if not isinstance(position, dict):
            return f"position is {_shown(position)}, not a table"
        counts = {f.name for f in dataclasses.fields(position_type)
                  if isinstance(f.default, int)} if position_type is not None else set()
        for name, value in position.items():
            if not _is_number(value) or (name in counts and not _is_count(value)):
                return f"position {name} is {_shown(value)}, not a " + \
                    ("count" if name in counts else "number")
    seconds = header.get("train_seconds")
    if seconds is not None and not (_is_number(seconds) and 0 <= seconds < float("inf")):
        return f"train_seconds is {_shown(seconds)}, not a number of seconds"
    losses = header.get("losses")
    if losses is not None:
        if not isinstance(losses, list):
            return f"losses is {_shown(losses)}, not a list"
        for entry in losses:
            if not isinstance(entry, dict) or not _is_count(entry.get("epoch")) or \
                    not _is_number(entry.get("loss", entry.get("cost"))) or \
                    not all(_is_number(value) for value in entry.values()):
                return f"losses holds {_shown(entry)}, not an epoch's loss"
    for name in ("corpus", "counts"):
        record = header.get(name)
        if record is None:
            continue
        if not isinstance(record, dict):
            return f"{name} is {_shown(record)}, not a table"
        for key in ("tokens", "sentences", "words", "nnz"):
            if key in record and not _is_count(record[key]):
                return f"{name} {key} is {_shown(record[key])}, not a count"
        if name == "corpus" and not {"tokens", "sentences"} <= set(record):
            return "corpus has no token or sentence count"
        if name == "counts" and not {"nnz"} <= set(record):
            return "counts has no non-zero count"
        if not isinstance(record.get("fingerprint"), (str, type(None))):
            return f"{name} fingerprint is {_shown(record['fingerprint'])}, not a string"
        inputs = record.get("inputs")
        if inputs is not None and not (isinstance(inputs, list) and
                                       all(isinstance(p, str) for p in inputs)):
            return f"{name} inputs is {_shown(inputs)}, not a list of paths"
    return None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shown(value, width=40):
    """A header value as JSON, cut to `width` characters, for a message."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 3] + "..."


def check_arrays(path, arrays, shapes):
    """InputError unless every array is float32 of its expected shape; the arrays, contiguous
    (a memory-mapped one stays a `numpy.memmap`)."""
    for name, array in arrays.items():
        if array.shape != shapes[name] or array.dtype != np.float32:
            raise InputError(f"cannot load {path}: {name} is {array.dtype} {array.shape}, "
                             f"expected float32 {shapes[name]}")
    return [array if array.flags.c_contiguous else np.ascontiguousarray(array)
            for array in arrays.values()]


# --------------------------------------------------------------------------- what it trained on


def corpus_record(corpus, inputs=None):
    """Token and sentence counts and a fingerprint of the ids, to recognise the corpus again."""
    digest = hashlib.blake2b(digest_size=16)
    step = 1 << 24
    for start in range(0, len(corpus.ids), step):
        digest.update(np.ascontiguousarray(corpus.ids[start:start + step]).tobytes())
    digest.update(np.ascontiguousarray(corpus.offsets, dtype=np.int64).tobytes())
    record = {"tokens": int(corpus.n_tokens), "sentences": int(corpus.n_sentences),
              "fingerprint": digest.hexdigest()}
    if inputs is not None:
        record["inputs"] = [p if p == "-" else os.path.abspath(p) for p in inputs]
    if getattr(corpus, "phrases", None):
        record["phrases"] = corpus.phrases
    return record


def counts_record(cooc, source=None):
    """Size and fingerprint of a co-occurrence matrix (its CSR arrays), to recognise it again.

    `source` (a dict, e.g. {"inputs": [...]} or {"cooccur": path}) is recorded beside them.
    The arrays are hashed in slices, in fixed dtypes, so no copy of the matrix is made.
    """
    from .cooccur.file import counts_digest

    cooc = cooc.tocsr()
    step = 1 << 24

    def arrays():
        yield np.array(cooc.shape, dtype=np.int64), None
        for array, dtype in ((cooc.indptr, np.int64), (cooc.indices, np.int32),
                             (cooc.data, np.float32)):
            for start in range(0, len(array), step):
                yield array[start:start + step], dtype

    return {"words": int(cooc.shape[0]), "nnz": int(cooc.nnz),
            "fingerprint": counts_digest(arrays()), **(source or {})}


def check_same_corpus(saved, record, hint=""):
    """InputError unless the corpus `record` describes is the one `saved` describes (token
    count and fingerprint; nothing to compare where either has no fingerprint, as counts
    made on a Dask cluster); `hint` ends the message."""
    if saved is None or record["fingerprint"] is None or saved.get("fingerprint") is None:
        return
    if saved["tokens"] != record["tokens"] or saved["fingerprint"] != record["fingerprint"]:
        raise InputError(
            f"this corpus is not the one the model was trained on ({record['tokens']} tokens "
            f"in {record['sentences']} sentences, the model's had {saved['tokens']} in "
            f"{saved['sentences']}, or the same counts with other text); resume needs the "
            f"same corpus{hint}")


def check_same_counts(saved, record):
    """InputError unless the co-occurrence counts `record` describes are those of `saved`
    (the non-zeros only where either has no fingerprint, as counts left on a Dask cluster)."""
    fingerprints = saved.get("fingerprint"), record.get("fingerprint")
    if saved["nnz"] != record["nnz"] or (None not in fingerprints
                                          and fingerprints[0] != fingerprints[1]):
        raise InputError(
            f"these co-occurrence counts are not the ones the model was trained on "
            f"({record['nnz']} non-zeros, the model's had {saved['nnz']}, or as many with "
            f"other values); resume needs the same corpus and counting options, or the same "
            f"--read-cooccur file")


# --------------------------------------------------------------------------- resuming


def refuse_changed_options(given, config, free=()):
    """A resumed run keeps its model's options: OptionError for one of `given` (option name
    -> value asked for again) whose value differs from `config`'s, except those in `free`."""
    for name in sorted(given):
        if name not in free and given[name] != getattr(config, name):
            raise OptionError(
                f"--{name.replace('_', '-')} {given[name]} differs from the resumed model's "
                f"{getattr(config, name)}: a resumed run keeps its options (only --threads, "
                f"--progress and outputs may change); use --init-model to train anew")


def recorded_inputs(record):
    """The corpus files a model recorded (`model.corpus`), to read them again on resume;
    OptionError if there are none or they came from stdin."""
    inputs = tuple((record or {}).get("inputs") or ())
    if not inputs:
        raise OptionError("the model records no corpus files (it has not trained yet): "
                          "give CORPUS")
    if "-" in inputs:
        raise OptionError("the model's corpus came from stdin: give CORPUS again")
    return inputs
