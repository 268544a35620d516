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


def write_checkpoint(path, family, model, arrays, **records):
    """Write `model` (options, position, losses, `records` such as its corpus, training
    time, vocabulary and `arrays`) to one model file, atomically."""
    header = {"config": model.config.to_dict(), "position": dataclasses.asdict(model.position),
              "losses": model.losses, **records,
              "train_seconds": round(model.train_seconds, 3)}
    write_model(path, family, header, model.vocab.words, model.vocab.counts, arrays)


def read_checkpoint(path, family, what, config_type, position_type, names):
    """Read a model file of `family` (`what` names it in the message for another family).

    Returns (config, vocab, arrays by name, fields, header): `fields` are the keyword
    arguments every model takes beside them (position, losses, corpus, train_seconds),
    `header` the file's JSON header for what a family adds. Anything
    unreadable (options, position, vocabulary, a missing array) is a one-line InputError.
    """
    from .corpus.vocab import Vocab

    with ModelFile(path) as file:
        if file.family != family:
            raise InputError(f"{path} is a {file.family} model, not a {what} model")
        header = file.header
        try:
            config = config_type.from_dict(header["config"])
            position = position_type(**header["position"])
        except (OptionError, KeyError, TypeError) as e:
            raise InputError(f"cannot load {path}: its options are not valid ({e})") from None
        try:
            vocab = Vocab(file.words(), file.array("counts"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"cannot load {path}: its vocabulary is damaged ({e})") from None
        arrays = {name: file.array(name) for name in names}
    fields = dict(position=position, losses=list(header.get("losses", [])),
                  corpus=header.get("corpus"),
                  train_seconds=float(header.get("train_seconds", 0.0)))
    return config, vocab, arrays, fields, header


def check_arrays(path, arrays, shapes):
    """InputError unless every array is float32 of its expected shape; the arrays, contiguous."""
    for name, array in arrays.items():
        if array.shape != shapes[name] or array.dtype != np.float32:
            raise InputError(f"cannot load {path}: {name} is {array.dtype} {array.shape}, "
                             f"expected float32 {shapes[name]}")
    return [np.ascontiguousarray(array) for array in arrays.values()]


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
    cooc = cooc.tocsr()
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.array(cooc.shape, dtype=np.int64).tobytes())
    step = 1 << 24
    for array, dtype in ((cooc.indptr, np.int64), (cooc.indices, np.int32),
                         (cooc.data, np.float32)):
        for start in range(0, len(array), step):
            digest.update(np.ascontiguousarray(array[start:start + step], dtype=dtype).tobytes())
    return {"words": int(cooc.shape[0]), "nnz": int(cooc.nnz),
            "fingerprint": digest.hexdigest(), **(source or {})}


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
    """InputError unless the co-occurrence counts `record` describes are those of `saved`."""
    if saved["nnz"] != record["nnz"] or saved["fingerprint"] != record["fingerprint"]:
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
