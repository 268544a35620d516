"""word2vec C's CBOW with negative sampling, re-implemented step by step (numba, one thread).

A reference for measuring w2v's CBOW against: `train_cbow` follows word2vec.c's
TrainModelThread for `-cbow 1 -hs 0 -threads 1` operation by operation, in the same float
precision and the same order, with its own random numbers (the 64-bit linear congruential
`next_random = next_random * 25214903917 + 11`, from 1 for the initial vectors and from 0
for the thread), its unigram table of 1e8 entries (power 0.75; a draw of `</s>`, word 0,
becomes a word uniform over the rest), its exp table (1000 bins over [-6, 6], indexed by
`(f + 6) * 83`, the integer 1000 / 6 / 2), its subsampling formula, `</s>` (each newline)
ending a sentence, sentences of at most 1000 words, and its learning rate (linear in the
words read, updated every 10,000 words). `read_text` reads a file as word2vec.c's ReadWord
does; `vocabulary` builds its vocabulary (counts, `</s>` first, then by count).

With `word2vec_c_binary` (the C source taken from the sdist of the PyPI package `word2vec`,
compiled with gcc; nothing of it is kept in this repository) the two can be compared:

    python benchmarks/word2vec_c_reference.py compare corpus.txt --size 50 --iter 1

trains both at one thread and prints the largest difference between their vectors.

The options of `train_cbow` after the first ones change one thing at a time from word2vec C
toward w2v's CBOW (the step table of docs/word2vec.md); `cbow_steps.py` measures them.
"""

import argparse
import glob
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
from numba import njit

MAX_EXP = 6
EXP_TABLE_SIZE = 1000
MAX_SENTENCE_LENGTH = 1000
MAX_STRING = 100
TABLE_SIZE = 100_000_000
EOS = b"</s>"
WORD2VEC_SDIST = "word2vec==0.11.1"

_MUL = np.uint64(25214903917)
_ADD = np.uint64(11)
_U32 = np.uint64(32)


# --------------------------------------------------------------------------- reading


def read_text(path):
    """(lines): each line of the file as a list of word2vec.c's words (bytes).

    ReadWord's rules: space, tab and newline separate words, carriage returns are dropped,
    a word is cut to MAX_STRING - 2 bytes. The file must end with a newline (word2vec.c
    drops the last word of a file that does not, which is not reproduced here).
    """
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise ValueError(f"{path}: the last line does not end with a newline")
    data = data.replace(b"\r", b"")
    split = re.compile(rb"[ \t]+").split
    lines = []
    for line in data.split(b"\n")[:-1]:
        lines.append([w[:MAX_STRING - 2] for w in split(line) if w])
    return lines


def vocabulary(lines, min_count=5):
    """(words, counts): `</s>` first (counted once a line), then the words of at least
    min_count occurrences by count, ties in first-occurrence order (glibc's qsort on
    word2vec.c's array, which is in first-occurrence order, is a stable merge sort)."""
    counts = {}
    for line in lines:
        for w in line:
            counts[w] = counts.get(w, 0) + 1
    kept = sorted(((c, i, w) for i, (w, c) in enumerate(counts.items()) if c >= min_count),
                  key=lambda t: (-t[0], t[1]))
    words = [EOS] + [w for _, _, w in kept]
    return words, np.array([len(lines)] + [c for c, _, _ in kept], dtype=np.int64)


def token_stream(lines, words):
    """The ids word2vec.c's training loop reads: in-vocabulary words, and 0 (`</s>`) at
    the end of every line; words outside the vocabulary are skipped."""
    index = {w: i for i, w in enumerate(words)}
    out = []
    for line in lines:
        out.extend(index[w] for w in line if w in index)
        out.append(0)
    return np.array(out, dtype=np.int32)


# --------------------------------------------------------------------------- tables


@njit(cache=True)
def unigram_table(counts, power=0.75, table_size=TABLE_SIZE):
    """InitUnigramTable, as in word2vec.c (double precision, the same order)."""
    vocab_size = counts.shape[0]
    table = np.empty(table_size, dtype=np.int32)
    train_words_pow = 0.0
    for a in range(vocab_size):
        train_words_pow += math.pow(counts[a], power)
    i = 0
    d1 = math.pow(counts[i], power) / train_words_pow
    for a in range(table_size):
        table[a] = i
        if a / float(table_size) > d1:
            i += 1
            if i < vocab_size:
                d1 += math.pow(counts[i], power) / train_words_pow
        if i >= vocab_size:
            i = vocab_size - 1
    return table


@njit(cache=True)
def exp_table():
    """expTable: sigmoid at EXP_TABLE_SIZE + 1 points, computed in float as word2vec.c does."""
    table = np.empty(EXP_TABLE_SIZE + 1, dtype=np.float32)
    for i in range(EXP_TABLE_SIZE + 1):
        x = (np.float32(i) / np.float32(EXP_TABLE_SIZE) * np.float32(2) - np.float32(1)) \
            * np.float32(MAX_EXP)
        e = np.float32(math.exp(np.float64(x)))
        table[i] = e / (e + np.float32(1))
    return table


@njit(cache=True)
def initial_vectors(vocab_size, size, seed=1):
    """InitNet's syn0: uniform in +-0.5/size from the LCG started at `seed` (word2vec.c: 1)."""
    syn0 = np.empty((vocab_size, size), dtype=np.float32)
    next_random = np.uint64(seed)
    for a in range(vocab_size):
        for b in range(size):
            next_random = next_random * _MUL + _ADD
            u = np.float32(next_random & np.uint64(0xFFFF)) / np.float32(65536)
            syn0[a, b] = np.float32((np.float64(u) - 0.5) / size)
    return syn0


# --------------------------------------------------------------------------- random draws


@njit(cache=True, inline="always")
def _next(state, xorshift):
    """(new state, random bits): the LCG's new state twice, or a xorshift64* step and its
    64 output bits (w2v's generator, `w2v.runtime.rng`)."""
    if xorshift:
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        return state, state * np.uint64(0x2545F4914F6CDD1D)
    state = state * _MUL + _ADD
    return state, state


# --------------------------------------------------------------------------- training


@njit(cache=True)
def _train(stream, counts, syn0, syn1neg, table, alias_threshold, alias, expt, window,
           negative, sample, iters, starting_alpha, next_random, sample_total, xorshift,
           w2v_sigmoid_index, divide_gradient, use_alias, skip_saturated):
    vocab_size = counts.shape[0]
    size = syn0.shape[1]
    table_size = table.shape[0]
    train_words = 0
    for a in range(vocab_size):
        train_words += counts[a]
    sen = np.zeros(MAX_SENTENCE_LENGTH + 1, dtype=np.int64)
    neu1 = np.zeros(size, dtype=np.float32)
    neu1e = np.zeros(size, dtype=np.float32)
    alpha = np.float32(starting_alpha)
    starting_alpha = np.float32(starting_alpha)
    sample = np.float32(sample)
    # sample * train_words, a float in word2vec.c (train_words converted to float)
    st = sample * np.float32(sample_total)
    word_count_actual = 0
    word_count = 0
    last_word_count = 0
    sentence_length = 0
    sentence_position = 0
    local_iter = iters
    p = 0
    n = stream.shape[0]
    eof = False
    index_scale = np.float32(EXP_TABLE_SIZE / MAX_EXP / 2.0) if w2v_sigmoid_index else \
        np.float32(EXP_TABLE_SIZE // MAX_EXP // 2)
    six = np.float32(MAX_EXP)
    while True:
        if word_count - last_word_count > 10000:
            word_count_actual += word_count - last_word_count
            last_word_count = word_count
            alpha = starting_alpha * (np.float32(1) - np.float32(word_count_actual)
                                      / np.float32(iters * train_words + 1))
            if alpha < starting_alpha * 0.0001:
                alpha = np.float32(starting_alpha * 0.0001)
        if sentence_length == 0:
            while True:
                if p >= n:
                    eof = True
                    break
                word = stream[p]
                p += 1
                word_count += 1
                if word == 0:
                    break
                if sample > 0:
                    cn = counts[word]
                    ran = np.float32((math.sqrt(np.float64(np.float32(cn) / st)) + 1.0)
                                     * np.float64(st) / cn)
                    next_random, bits = _next(next_random, xorshift)
                    if xorshift:
                        u = np.float32(np.float64(bits >> _U32) / 4294967296.0)
                    else:
                        u = np.float32(bits & np.uint64(0xFFFF)) / np.float32(65536)
                    if ran < u:
                        continue
                sen[sentence_length] = word
                sentence_length += 1
                if sentence_length >= MAX_SENTENCE_LENGTH:
                    break
            sentence_position = 0
        if eof or word_count > train_words:
            word_count_actual += word_count - last_word_count
            local_iter -= 1
            if local_iter == 0:
                break
            word_count = 0
            last_word_count = 0
            sentence_length = 0
            p = 0
            eof = False
            continue
        word = sen[sentence_position]
        neu1[:] = 0
        neu1e[:] = 0
        next_random, bits = _next(next_random, xorshift)
        if xorshift:
            b = np.int64(((bits >> _U32) * np.uint64(window)) >> _U32)
        else:
            b = np.int64(bits % np.uint64(window))
        cw = 0
        for a in range(b, window * 2 + 1 - b):
            if a != window:
                c = sentence_position - window + a
                if c < 0 or c >= sentence_length:
                    continue
                last_word = sen[c]
                for k in range(size):
                    neu1[k] += syn0[last_word, k]
                cw += 1
        if cw:
            for k in range(size):
                neu1[k] /= np.float32(cw)
            for d in range(negative + 1):
                if d == 0:
                    target = word
                    label = 1
                else:
                    next_random, bits = _next(next_random, xorshift)
                    if use_alias:  # w2v's draw: bucket from the high bits, coin from the low
                        bucket = np.int64(((bits >> _U32) * np.uint64(vocab_size)) >> _U32)
                        coin = bits & np.uint64(0xFFFFFFFF)
                        target = bucket if coin < alias_threshold[bucket] else alias[bucket]
                    elif xorshift:
                        target = table[np.int64(((bits >> _U32) * np.uint64(table_size)) >> _U32)]
                    else:
                        target = table[np.int64((bits >> np.uint64(16)) % np.uint64(table_size))]
                    if target == 0:
                        target = np.int64(bits % np.uint64(vocab_size - 1)) + 1
                    if target == word:
                        continue
                    label = 0
                f = np.float32(0)
                for k in range(size):
                    f += neu1[k] * syn1neg[target, k]
                if skip_saturated and (f >= six or f <= -six):
                    continue
                if f > six:
                    g = np.float32(label - 1) * alpha
                elif f < -six:
                    g = np.float32(label) * alpha
                else:
                    g = (np.float32(label) - expt[np.int64((f + six) * index_scale)]) * alpha
                for k in range(size):
                    neu1e[k] += g * syn1neg[target, k]
                for k in range(size):
                    syn1neg[target, k] += g * neu1[k]
            if divide_gradient:
                for k in range(size):
                    neu1e[k] /= np.float32(cw)
            for a in range(b, window * 2 + 1 - b):
                if a != window:
                    c = sentence_position - window + a
                    if c < 0 or c >= sentence_length:
                        continue
                    last_word = sen[c]
                    for k in range(size):
                        syn0[last_word, k] += neu1e[k]
        sentence_position += 1
        if sentence_position >= sentence_length:
            sentence_length = 0


def train_cbow(stream, counts, size=100, window=5, negative=5, sample=1e-3, iters=5,
               alpha=0.05, seed=1, *, syn0=None, eos_in_noise=True, xorshift=False,
               alias_table=False, w2v_sigmoid_index=False, divide_gradient=False,
               skip_saturated=False, init_scale=1.0):
    """(syn0, syn1neg) after word2vec.c's CBOW training on `stream` (`token_stream`) with
    vocabulary counts `counts` (`vocabulary`). seed 1 is word2vec C (syn0's LCG starts at
    seed, the thread's at seed - 1).

    The keyword options move one thing toward w2v's CBOW each:
      syn0               given initial vectors (w2v's per-word ones) instead of InitNet's
      eos_in_noise=False `</s>` out of the noise distribution and of the subsampling total
      xorshift           every draw from a xorshift64* stream (w2v's generator), 32-bit
                         multiply-shift instead of modulo, subsampling against 32 random bits
      alias_table        negatives from an alias table over the vocabulary (w2v's) instead
                         of the 1e8-entry unigram table
      w2v_sigmoid_index  exp table index (f + 6) * 1000 / 12 (w2v) instead of (f + 6) * 83
      divide_gradient    the context words get neu1e / cw, the gradient of the mean
                         (neither word2vec C nor w2v nor gensim do this)
    and two of gensim's ways: skip_saturated (no update for a score outside [-6, 6]) and
    init_scale (2: InitNet's vectors doubled, gensim's +-1/size).
    """
    counts = np.asarray(counts, dtype=np.int64)
    vocab_size = len(counts)
    if syn0 is None:
        syn0 = initial_vectors(vocab_size, size, seed) * np.float32(init_scale)
    syn0 = np.ascontiguousarray(syn0, dtype=np.float32)
    syn1neg = np.zeros((vocab_size, size), dtype=np.float32)
    noise_counts = counts.copy()
    if not eos_in_noise:
        noise_counts[0] = 0
    if alias_table:
        if not xorshift:
            raise ValueError("alias_table draws as w2v does, from xorshift64* (xorshift=True)")
        from w2v.word2vec.model import noise_distribution

        threshold, alias = noise_distribution(noise_counts)
        table = np.zeros(1, dtype=np.int32)
    else:
        threshold, alias = np.zeros(1, np.uint64), np.zeros(1, np.int32)
        table = unigram_table(noise_counts)
    sample_total = int(noise_counts.sum())
    start = np.uint64(seed - 1) if not xorshift else _seed_state(seed)
    _train(np.asarray(stream, dtype=np.int64), counts, syn0, syn1neg, table, threshold,
           alias.astype(np.int64), exp_table(), window, negative, sample, iters,
           np.float32(alpha), start, sample_total, xorshift, w2v_sigmoid_index,
           divide_gradient, alias_table, skip_saturated)
    return syn0, syn1neg


def _seed_state(seed):
    from w2v.runtime.rng import seed_for

    return seed_for(seed, 0x43424F57)


# --------------------------------------------------------------------------- word2vec C


def word2vec_c_source(cache_dir):
    """Path of word2vec.c from the sdist of the PyPI package `word2vec` (downloaded with
    pip into cache_dir once), or None when it cannot be had (no pip, no network)."""
    found = glob.glob(os.path.join(cache_dir, "**", "includes", "word2vec.c"), recursive=True)
    if found:
        return found[0]
    os.makedirs(cache_dir, exist_ok=True)
    if not glob.glob(os.path.join(cache_dir, "word2vec-*.tar.gz")):
        try:
            result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary",
                                     ":all:", "--no-deps", "--retries",
                                     "0", "--timeout", "15", "-q", "-d", cache_dir,
                                     WORD2VEC_SDIST], capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode != 0:
            return None
    for archive in glob.glob(os.path.join(cache_dir, "word2vec-*.tar.gz")):
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.endswith("/includes/word2vec.c") and m.isfile()]
            tar.extractall(cache_dir, members=members, filter="data")
    found = glob.glob(os.path.join(cache_dir, "**", "includes", "word2vec.c"), recursive=True)
    return found[0] if found else None


EXACT_FLAGS = ("-O2", "-ffp-contract=off", "-fno-fast-math")
"""No fast-math, no fused multiply-add: word2vec.c's float arithmetic done as written."""
PACKAGE_FLAGS = ("-Ofast", "-march=native", "-funroll-loops")
"""The flags the `word2vec` package builds word2vec.c with (its setup.py): for timing it."""


def word2vec_c_binary(cache_dir, flags=EXACT_FLAGS):
    """word2vec.c compiled with gcc and `flags` (EXACT_FLAGS to compare vectors with the
    reference, PACKAGE_FLAGS to time it), or None without a compiler or the source."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        return None
    name = "word2vec-c" + ("" if flags == EXACT_FLAGS else "".join(flags).replace("=", ""))
    binary = os.path.join(cache_dir, name)
    if os.path.exists(binary):
        return binary
    source = word2vec_c_source(cache_dir)
    if source is None:
        return None
    result = subprocess.run([compiler, *flags, source, "-o", binary, "-lm", "-pthread"],
                            capture_output=True, check=False)
    return binary if result.returncode == 0 else None


def run_word2vec_c(binary, corpus, output, size=50, window=5, negative=5, sample=1e-3,
                   iters=1, min_count=5, alpha=0.05):
    """Train word2vec C's CBOW at one thread; returns (words, vectors) of its binary output."""
    subprocess.run([binary, "-train", corpus, "-output", output, "-cbow", "1", "-size",
                    str(size), "-window", str(window), "-negative", str(negative), "-hs", "0",
                    "-sample", str(sample), "-threads", "1", "-iter", str(iters), "-min-count",
                    str(min_count), "-alpha", str(alpha), "-binary", "1", "-debug", "0"],
                   check=True, capture_output=True)
    return read_binary_vectors(output)


def read_binary_vectors(path):
    """(words as bytes, float32 matrix) of a word2vec C binary file."""
    with open(path, "rb") as f:
        n, dim = (int(x) for x in f.readline().split())
        words = []
        vectors = np.empty((n, dim), dtype=np.float32)
        for i in range(n):
            word = bytearray()
            while (ch := f.read(1)) != b" ":
                word += ch
            words.append(bytes(word).lstrip(b"\n"))
            vectors[i] = np.frombuffer(f.read(4 * dim), dtype=np.float32)
    return words, vectors


def compare(corpus, size=50, iters=1, min_count=5, cache_dir=None):
    """(max |difference|, words) between word2vec C's and the reference's vectors."""
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "w2v-word2vec-c")
    binary = word2vec_c_binary(cache_dir)
    if binary is None:
        raise SystemExit("word2vec C is not available (no compiler, or no sdist)")
    with tempfile.TemporaryDirectory() as tmp:
        c_words, c_vectors = run_word2vec_c(binary, corpus, os.path.join(tmp, "c.bin"), size=size,
                                            iters=iters, min_count=min_count)
    lines = read_text(corpus)
    words, counts = vocabulary(lines, min_count)
    if words != c_words:
        raise SystemExit("the vocabularies differ")
    syn0, _ = train_cbow(token_stream(lines, words), counts, size=size, iters=iters)
    return float(np.abs(syn0 - c_vectors).max()), len(words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["compare"])
    parser.add_argument("corpus")
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--iter", type=int, default=1)
    parser.add_argument("--min-count", type=int, default=5)
    args = parser.parse_args()
    diff, n = compare(args.corpus, args.size, args.iter, args.min_count)
    print(f"{n} words, dim {args.size}, {args.iter} iter: "
          f"max |word2vec C - reference| = {diff:.3g}")


if __name__ == "__main__":
    main()
