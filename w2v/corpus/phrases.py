"""Phrases: join word pairs that occur together more than chance, as word2phrase does.

One pass reads the text (every word counts, as in word2phrase), counts each word and each
candidate pair of adjacent words on a line exactly, scores the pairs and writes the text
back with the phrases joined (`new_york`). Scorers:

- `word2phrase`: (count(ab) - min_count) / count(a) / count(b) x train_words, where
  train_words is the number of tokens in the text; a pair joins when its score is above
  the threshold (`>`, as word2phrase) and a, b and ab each occur at least min_count times.
  Scores are float64 in word2phrase's order of operations (word2phrase itself uses float).
- `npmi`: ln(p(ab) / (p(a) p(b))) / -ln(p(ab)), each p a count over train_words, in [-1, 1];
  a pair joins when its score is above the threshold and ab occurs at least min_count times.

Joins are greedy left to right and never overlap; they never cross lines, and unlike
word2phrase (whose counting runs over line ends) pairs are only counted within a line.
With connector words (gensim's idea), a candidate is two other words with up to
MAX_CONNECTORS connector words between them (`bank_of_america`); connector words never
start or end a phrase. A phrase is its joined string: `--apply` and the counting run join
exactly the candidates whose joined string is in the phrase table.

Lines keep their order, blank lines included; tokens are written back separated by one
space. Several passes run on the previous pass's output, kept in memory as token ids: a
joined phrase becomes one word of the text's word store, so the next pass counts it like any
other word (`phrase_passes`, which `load_corpus` runs for `w2v train --phrases N` too).
"""

import collections
import dataclasses
import logging
import math
import os

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError
from .phrase_keys import CandidateKeys, no_word_has, phrase_keys, phrase_strings
from .phrase_tables import Phrase, read_phrases, write_phrases  # noqa: F401
from ..runtime.threads import check_threads, start_numba_without_scipy
from ..text.sources import expand_inputs, file_blocks, plain_bytes
from ..text.token_ids import TokenIds, count_ids
from ..text.tokenize import WordStore, grown, most_tokens

log = logging.getLogger("w2v")

SCORERS = {"word2phrase": 100.0, "npmi": 0.5}  # scorer -> default threshold
CHUNK_TOKENS = 1 << 22  # tokens counted per kernel call, to bound temporaries
WORK_TOKENS = 1 << 20  # tokens joined or written per kernel call, in threads
MAX_WORKERS = 4  # threads for the kernels of a pass
GROUP_BYTES = 1 << 22  # bytes of text split into words with a word store of their own

# gensim's ENGLISH_CONNECTOR_WORDS
ENGLISH_CONNECTORS = ("a an the for of with without at from to in on by and or").split()


@dataclasses.dataclass
class Text:
    """Lines of tokens: line i is ids[offsets[i]:offsets[i + 1]] (blank lines are empty)."""

    store: WordStore
    ids: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = lines + 1

    @property
    def n_tokens(self):
        return len(self.ids)


# --------------------------------------------------------------------------- reading


def read_text(inputs, lowercase=False, threads=None):
    """Read every input once (files, globs, '-', compressed) into a `Text`, blank lines kept.
    `threads` (here and below): at most this many threads (default: `workers()`)."""
    paths = expand_inputs(inputs)
    return _tokenize_blocks(file_blocks(paths, str.lower if lowercase else None),
                            plain_bytes(paths), workers(threads))


def _tokenize_blocks(blocks, plain_bytes=None, n_workers=None):
    """A `Text` of the blocks, split into words by groups in threads.

    Each group of blocks is split with a word store of its own (a thread each); in order,
    the words of each group are then looked up in the text's store, new ones added in the
    group's order, so every word gets the id it would get from one store reading the text
    through (its first occurrence), and the group's ids are mapped to those. The ids go
    into one array of room for `plain_bytes` (their size, when known), else into fixed
    pieces copied into one array at the end (stdin, compressed input).
    """
    from .phrase_kernels import remap_into

    direct = plain_bytes is not None
    ids = np.empty(most_tokens(plain_bytes) if direct else 0, dtype=np.uint32)
    tokens = None if direct else TokenIds()
    store, n_ids, lengths = None, 0, []
    free = []  # (store, ids buffer) of groups done with: later groups reuse their memory

    def tasks():
        for group in _groups(blocks):
            yield group, free.pop() if free else (None, None)

    for local, local_ids, line_lengths, buffer in _in_order(_split_group, tasks(), n_workers):
        if store is None:
            store, remap = local, None  # the first group's ids are the text's
        else:
            remap = _merged_words(store, local)
        if direct:
            if n_ids + len(local_ids) > len(ids):  # lowercasing lengthened the text
                ids = grown(ids, max(2 * len(ids), n_ids + len(local_ids)))
            out, at = ids, n_ids
            n_ids += len(local_ids)
        else:
            out, at = np.empty(len(local_ids), dtype=np.uint32), 0
        if remap is None:
            out[at:at + len(local_ids)] = local_ids
        else:
            remap_into(local_ids, remap, out, at)
        if not direct:
            tokens.append(out, store.n_words)
        lengths.append(line_lengths)
        free.append((None if local is store else local, buffer))
        del local, local_ids, remap, out, buffer
    store = store or WordStore()
    ids = ids[:n_ids] if direct else tokens.finish(store.n_words).take_ids()
    lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Text(store, ids, offsets)


def _groups(blocks, group_bytes=None):
    """Lists of consecutive blocks of about `group_bytes` bytes each (GROUP_BYTES)."""
    group_bytes = GROUP_BYTES if group_bytes is None else group_bytes
    group, size = [], 0
    for block in blocks:
        group.append(block)
        size += len(block)
        if size >= group_bytes:
            yield group
            group, size = [], 0
    if group:
        yield group


def _split_group(task):
    """(a word store of the group's own, its ids there, the length of each of its lines, the
    buffer of the ids). The task is the group's blocks and a store and buffer to reuse (or
    None): fresh memory costs a page fault every 4 KB."""
    from .phrase_kernels import nonblank_lines

    blocks, (store, ids) = task
    if store is None:
        store = WordStore(1 << 18)  # a 4 MB group has some 50,000 distinct words
    else:
        store.clear()
    most = sum(most_tokens(len(block)) for block in blocks)
    if ids is None or len(ids) < most:
        ids = np.empty(most, dtype=np.uint32)
    n_ids, lengths = 0, []
    for block in blocks:
        block_ids, nonblank_lengths = store.tokenize(block, ids, n_ids)
        n_ids += len(block_ids)
        nonblank = nonblank_lines(np.frombuffer(block, dtype=np.uint8))
        line_lengths = np.zeros(len(nonblank), dtype=np.int64)
        line_lengths[nonblank] = nonblank_lengths
        lengths.append(line_lengths)
    return store, ids[:n_ids], np.concatenate(lengths), ids


def _merged_words(store, local):
    """The ids in `store` of the words of the store `local`, in id order: words new to
    `store` are added to it in that order."""
    from .phrase_kernels import words_as_lines

    if local.n_words == 0:
        return np.zeros(0, dtype=np.uint32)
    merged, _ = store.tokenize(words_as_lines(local.word_bytes, local.word_ends, local.n_words))
    return merged


def _line_chunks(offsets, tokens=CHUNK_TOKENS):
    """(first line, end line) ranges of about `tokens` tokens each (at least one line)."""
    n_lines = len(offsets) - 1
    lo = 0
    while lo < n_lines:
        hi = int(np.searchsorted(offsets, offsets[lo] + tokens, side="right")) - 1
        hi = min(max(hi, lo + 1), n_lines)
        yield lo, hi
        lo = hi


def workers(threads=None):
    """Threads for the kernels of a pass: the usable cores, at most MAX_WORKERS, and at most
    `threads` (`--threads`) where given."""
    from ..runtime.threads import usable_cores

    threads = check_threads(threads)
    return max(1, min(MAX_WORKERS if threads is None else threads, usable_cores()))


def _in_order(function, items, n_workers=None):
    """function(item) for every item, yielded in the order of `items`.

    The kernels release the GIL, so up to `n_workers` items run at once in threads, while
    the caller uses the results before them; at most n_workers + 1 results are alive, which
    bounds the memory. One worker runs everything in the calling thread.
    """
    n_workers = workers() if n_workers is None else n_workers
    if n_workers <= 1:
        yield from map(function, items)
        return
    from concurrent.futures import ThreadPoolExecutor

    items = iter(items)
    with ThreadPoolExecutor(n_workers, thread_name_prefix="w2v-phrases") as pool:
        pending = collections.deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) > n_workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


# --------------------------------------------------------------------------- candidates


def count_candidates(text, keys, min_count=1, memory_gb=None, threads=None):
    """(word counts, sorted candidate keys, their counts) of a Text, exact int64.

    Candidates with an end seen fewer than `min_count` times are not counted: no scorer
    joins them (a pair is never seen more often than either of its words).
    """
    word_counts, runs = _counted(text, keys, min_count, memory_gb, threads=threads)
    try:
        blocks = [(k.copy(), c.copy()) for k, c in runs.blocks()]
    finally:
        runs.close()
    if not blocks:
        return word_counts, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return word_counts, np.concatenate([k for k, _ in blocks]), \
        np.concatenate([c for _, c in blocks])


def _counted(text, keys, min_count, memory_gb, tmp_dir=None, most=None, threads=None):
    """(word counts, the candidates' counts as cooccur's store of sorted runs, finished).

    Candidates with an end seen fewer than `min_count` times, or more than `most` times,
    are not counted (see `_most_for`). Chunks of lines are keyed, sorted and counted, in
    threads, and their runs merged in order in memory up to about `memory_gb` (default:
    half the memory available); past it, merged runs spill to a temporary file and are
    merged from there in bounded windows, as co-occurrence counts are. The caller reads
    `blocks()` and must `close()` the store.
    """
    from ..runtime.runs import BYTES_PER_ENTRY, RunStore, default_memory_gb
    from .phrase_kernels import candidate_keys, count_runs

    budget = int((default_memory_gb() if memory_gb is None else memory_gb) * 1e9)
    n_workers = workers(threads)
    # a quarter of the bound for the keys of the chunks in hand (each sorted in place, then
    # counted), the rest for the runs
    chunk_tokens = int(min(CHUNK_TOKENS, max(1, budget // 4 // 16 // (n_workers + 1))))
    rest = max(0, budget - 16 * chunk_tokens * (n_workers + 1))
    runs = RunStore(rest // 2 // BYTES_PER_ENTRY, rest, tmp_dir)
    word_counts = np.zeros(keys.n_words, dtype=np.int64)
    count_ids(text.ids, word_counts)  # np.bincount would first copy the ids to int64
    frequent = word_counts >= min_count
    if most is not None:
        frequent &= word_counts <= most

    free = []  # key buffers of chunks done with, reused (fresh memory costs page faults)

    def count_chunk(task):
        (lo, hi), buffer = task
        size = int(text.offsets[hi] - text.offsets[lo])
        if buffer is None or len(buffer) < size:
            buffer = np.empty(size, dtype=np.int64)
        n = candidate_keys(text.ids, text.offsets, lo, hi, *keys.args(), frequent, buffer)
        chunk = buffer[:n]
        chunk.sort()  # numpy releases the GIL while it sorts
        return count_runs(chunk), buffer

    def tasks():
        for lines in _line_chunks(text.offsets, chunk_tokens):
            yield lines, free.pop() if free else None

    try:
        for (chunk_keys, chunk_counts), buffer in _in_order(count_chunk, tasks(), n_workers):
            free.append(buffer)
            runs.push(chunk_keys, chunk_counts, copy=False)  # count_runs made them
        runs.finish()
    except BaseException:
        runs.close()
        raise
    if runs.n_spills:
        log.info("pair counts spilled to a temporary file %d times (--memory %.3g GB)",
                 runs.n_spills, budget / 1e9)
    return word_counts, runs


def score(scorer, count_a, count_b, count_ab, min_count, train_words):
    """Scores of candidates (numpy arrays of counts) and whether each may join at all."""
    count_a = np.asarray(count_a, dtype=np.int64)
    count_b = np.asarray(count_b, dtype=np.int64)
    count_ab = np.asarray(count_ab, dtype=np.int64)
    if scorer == "word2phrase":
        allowed = (count_ab >= min_count) & (count_a >= min_count) & (count_b >= min_count)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = (count_ab - min_count) / count_a.astype(np.float64) / count_b * float(
                train_words)
    elif scorer == "npmi":
        allowed = count_ab >= min_count
        n = float(train_words)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_ab = count_ab / n
            scores = np.log(p_ab / ((count_a / n) * (count_b / n))) / -np.log(p_ab)
    else:
        raise OptionError(f"unknown scorer {scorer!r} (choose from {', '.join(SCORERS)})")
    return scores, allowed


def _most_for(scorer, threshold, min_count, train_words):
    """The most times a word can be seen and still be in a phrase (None: no bound).

    word2phrase's score of (a, b) is at most train_words / max(count(a), count(b)), since
    count(ab) - min_count <= count(ab) <= min(count(a), count(b)); so with a positive
    threshold a word seen more than train_words / threshold times is in no phrase (a pair
    joins above the threshold), and its pairs need no counting: the ten most frequent
    words of the 10M-token slice ("the", "of", ...) are a quarter of its tokens and in
    almost half of its candidate pairs. The bound is widened by a part in 10^9, far beyond
    float64 rounding of the score.
    """
    if scorer != "word2phrase" or not threshold > 0 or min_count < 0:
        return None
    return train_words / threshold * (1 + 1e-9)


def check_threshold(scorer, threshold):
    if scorer not in SCORERS:
        raise OptionError(f"unknown scorer {scorer!r} (choose from {', '.join(SCORERS)})")
    if not math.isfinite(threshold):
        raise OptionError(f"--threshold must be a finite number, not {threshold}")
    if scorer == "npmi" and not -1.0 <= threshold <= 1.0:
        raise OptionError(f"--threshold {threshold:g} is outside [-1, 1], the range of npmi")


def find_phrases(text, *, scorer="word2phrase", threshold=None, min_count=5, connectors=(),
                 delimiter="_", memory_gb=None, threads=None):
    """The phrases of a Text: a list of `Phrase`, highest score first (ties by text).

    `memory_gb` bounds the pair counts (default: half the memory available); past it they
    spill to a temporary file."""
    phrases, _ = _choose(text, CandidateKeys(text, connectors), scorer, threshold, min_count, delimiter,
                         memory_gb, threads)
    return phrases


def _choose(text, keys, scorer, threshold, min_count, delimiter, memory_gb=None, threads=None):
    """(the phrases of a Text by score, the sorted keys of the candidates chosen)."""
    threshold = SCORERS.get(scorer, 0.0) if threshold is None else float(threshold)
    check_threshold(scorer, threshold)
    word_counts, runs = _counted(text, keys, min_count, memory_gb,
                                 most=_most_for(scorer, threshold, min_count, text.n_tokens),
                                 threads=threads)
    chosen_keys, chosen_counts, chosen_scores = [], [], []
    n_candidates = 0
    try:
        for cand_keys, cand_counts in runs.blocks():  # blocks of sorted keys, in order
            n_candidates += len(cand_keys)
            seen = np.flatnonzero(cand_counts >= min_count)  # no scorer joins the others
            cand_keys, cand_counts = cand_keys[seen], cand_counts[seen]
            a, b, _ = keys.decode(cand_keys)
            scores, allowed = score(scorer, word_counts[a], word_counts[b], cand_counts,
                                    min_count, text.n_tokens)
            chosen = np.flatnonzero(allowed & (scores > threshold))
            chosen_keys.append(cand_keys[chosen])
            chosen_counts.append(cand_counts[chosen])
            chosen_scores.append(scores[chosen])
    finally:
        runs.close()
    chosen_keys = np.concatenate(chosen_keys) if chosen_keys else np.zeros(0, np.int64)
    counts = np.concatenate(chosen_counts) if chosen_counts else np.zeros(0, np.int64)
    scores = np.concatenate(chosen_scores) if chosen_scores else np.zeros(0)
    strings = phrase_strings(text, keys, chosen_keys, delimiter)
    phrases = [Phrase(string, int(count), float(value)) for string, count, value in
               zip(strings, counts.tolist(), scores.tolist())]
    phrases.sort(key=lambda p: (-p.score, p.text))
    log.debug("%d candidates, %d phrases above %g (%s)", n_candidates, len(phrases),
              threshold, scorer)
    return phrases, chosen_keys


def join_text(text, sorted_keys, keys, delimiter="_", threads=None):
    """`text` with the candidates in `sorted_keys` joined, each phrase one token, and how
    many were joined. Consumes `text`: its ids are rewritten in place, and the phrases are
    added to its word store (a phrase that is already a word of the text gets that word's id).
    """
    from .phrase_kernels import join_ids, move_down

    store = text.store
    phrase_ids = np.zeros(0, dtype=np.uint32)
    if len(sorted_keys):
        strings = phrase_strings(text, keys, sorted_keys, delimiter)
        phrase_ids, _ = store.tokenize(("\n".join(strings) + "\n").encode("utf-8"))
        if len(phrase_ids) != len(strings):  # a phrase is one token: no whitespace in it
            raise AssertionError("a phrase split into several tokens")
    first_key = np.searchsorted(keys.decode(sorted_keys)[0], np.arange(keys.n_words + 1))
    starts = (first_key[1:] > first_key[:-1]).view(np.uint8)  # 1 byte a word: stays in cache
    new_offsets = np.empty_like(text.offsets)
    new_offsets[0] = 0

    def join_lines(lines):
        return lines, join_ids(text.ids, text.offsets, lines[0], lines[1], *keys.args(),
                               sorted_keys, phrase_ids, first_key, starts, new_offsets)

    # Each chunk of lines is joined in place within its own stretch of ids, and moved down
    # to follow the previous chunk (a line never gets longer, so nothing is overwritten).
    n, joined = 0, 0
    for (lo, hi), (end, chunk_joined) in _in_order(
            join_lines, _line_chunks(text.offsets, WORK_TOKENS), workers(threads)):
        start = int(text.offsets[lo])
        if start > n:
            move_down(text.ids, start, end, n)
            new_offsets[lo + 1:hi + 1] -= start - n
        n += end - start
        joined += chunk_joined
    return Text(store, text.ids[:n], new_offsets), joined


def write_text(text, stream, buffer_bytes=1 << 23, threads=None):
    """Write the text to a binary stream: chunks of lines are made into bytes in threads,
    each through a buffer of whole lines, and written in order."""
    from .phrase_kernels import write_lines

    store = text.store
    n_workers = workers(threads)
    free = [np.empty(buffer_bytes, dtype=np.uint8) for _ in range(n_workers + 1)]

    def lines_bytes(task):
        (lo, hi), out = task
        pieces, line = [], lo
        while line < hi:
            n, after = write_lines(text.ids, text.offsets, line, hi, store.word_bytes,
                                   store.word_ends, out)
            if after == line:  # a line longer than the buffer
                out = np.empty(2 * len(out), dtype=np.uint8)
                continue
            pieces.append(out[:n])
            line = after
            if line < hi:  # the rest of the chunk goes to another buffer
                out = np.empty(len(out), dtype=np.uint8)
        return out, pieces

    def tasks():
        for lines in _line_chunks(text.offsets, WORK_TOKENS):
            yield lines, free.pop()

    for out, pieces in _in_order(lines_bytes, tasks(), n_workers):
        for piece in pieces:
            stream.write(memoryview(piece))
        free.append(out)


# --------------------------------------------------------------------------- passes


def check_delimiter(delimiter):
    if not delimiter or delimiter.split() != [delimiter]:
        raise OptionError(f"--delimiter must be non-empty and without whitespace (a phrase is "
                          f"one token), got {delimiter!r}")


def phrase_passes(text, passes=1, *, scorer="word2phrase", thresholds=None, min_count=5,
                  connectors=(), delimiter="_", tables=None, memory_gb=None, threads=None):
    """`text` after `passes` passes, each counting the previous pass's output and joining its
    phrases (or those of `tables`, one list of `Phrase` a pass, without counting).

    Returns (the joined Text, the table of each pass). Consumes `text`; everything stays
    token ids, so memory is the text's ids and the pair counts of one pass. At most
    `threads` threads work (default: `workers()`).
    """
    check_delimiter(delimiter)
    if tables is None:
        if passes < 1:
            raise OptionError(f"--passes must be at least 1, not {passes}")
        thresholds = expand_thresholds(scorer, thresholds, passes)
        for t in thresholds:
            check_threshold(scorer, t)
    else:
        passes = len(tables)
    found = []
    for p in range(passes):
        keys = CandidateKeys(text, connectors)
        if tables is None:
            table, sorted_keys = _choose(text, keys, scorer, thresholds[p], min_count,
                                         delimiter, memory_gb, threads)
        else:
            table = tables[p]
        if tables is not None or not no_word_has(text.store, delimiter):
            sorted_keys, keys = phrase_keys(text, [phrase.text for phrase in table], connectors,
                                            delimiter, keys)
        found.append(table)
        text, joined = join_text(text, sorted_keys, keys, delimiter, threads)
        log.info("pass %d: %d phrases, %d joined in the text", p + 1, len(table), joined)
    return text, found


def phrase_record(tables, thresholds=None, passes=None, scorer="word2phrase", min_count=5,
                  delimiter="_"):
    """What a model records of the phrase passes run on its corpus: the settings and each
    pass's phrases (by score), so that the same joins can be made in other text."""
    passes = len(tables) if passes is None else passes
    return {"passes": passes, "scorer": scorer,
            "thresholds": expand_thresholds(scorer, thresholds, passes),
            "min_count": min_count, "delimiter": delimiter,
            "tables": [[phrase.text for phrase in table] for table in tables]}


def run_phrases(inputs, output="-", *, scorer="word2phrase", thresholds=None, min_count=5,
                passes=1, connectors=(), delimiter="_", lowercase=False, save_phrases=None,
                apply=None, memory_gb=None, threads=None):
    """Read `inputs`, join phrases in `passes` passes (or those of the file `apply`), write
    the text to `output` ('-' for stdout). Returns the phrase table of each pass.

    `thresholds` has one value per pass (or one for all); `save_phrases` writes the tables;
    `memory_gb` bounds the pair counts (past it they spill to a temporary file); at most
    `threads` threads work (default: the usable cores, at most MAX_WORKERS).
    """
    check_delimiter(delimiter)
    if memory_gb is not None and not memory_gb > 0:
        raise OptionError(f"--memory must be positive, got {memory_gb}")
    applied = None
    if apply is not None:
        applied = read_phrases(apply, delimiter=delimiter)
    else:
        if passes < 1:
            raise OptionError(f"--passes must be at least 1, not {passes}")
        for t in expand_thresholds(scorer, thresholds, passes):
            check_threshold(scorer, t)
    start_numba_without_scipy()
    check_threads(threads)
    text = read_text(inputs, lowercase=lowercase, threads=threads)
    if text.n_tokens == 0:  # a filter passes empty text through
        log.warning("no words in %s: nothing to join", ", ".join(expand_inputs(inputs)))
        tables = applied if applied is not None else [[] for _ in range(passes)]
    else:
        text, tables = phrase_passes(text, passes, scorer=scorer, thresholds=thresholds,
                                     min_count=min_count, connectors=connectors,
                                     delimiter=delimiter, tables=applied, memory_gb=memory_gb,
                                     threads=threads)
    with atomic_write(output, "wb") as f:
        write_text(text, f, threads=threads)
    if save_phrases is not None and apply is None:
        write_phrases(tables, save_phrases)
    return tables


def expand_thresholds(scorer, thresholds, passes):
    """One threshold per pass: the scorer's default, one value for all, or one for each."""
    if thresholds is None or len(thresholds) == 0:
        return [SCORERS.get(scorer, 0.0)] * passes
    thresholds = [float(t) for t in thresholds]
    if len(thresholds) == 1:
        return thresholds * passes
    if len(thresholds) != passes:
        raise OptionError(f"--threshold has {len(thresholds)} values for {passes} passes")
    return thresholds


# --------------------------------------------------------------------------- connector words


def read_connectors(name):
    """Connector words: 'english' (gensim's list) or a file of words (whitespace-separated)."""
    if name is None:
        return ()
    if name == "english" and not os.path.exists(name):
        return tuple(ENGLISH_CONNECTORS)
    try:
        with open(name, encoding="utf-8") as f:
            return tuple(f.read().split())
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text") from None
