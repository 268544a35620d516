"""The file commands: `info` (what a model, vector, index, pooling or count file holds)
and `convert` (a vector file rewritten in another format, or for the Embedding Projector).

They import numpy, never numba: see tests/test_cli_read.py.
"""

import logging
import os

import click

from ..runtime.atomic import check_writable
from .options import common_options, json_option

log = logging.getLogger("w2v")


@click.command("info", short_help="Say what a model or vector file holds.")
@click.argument("path", metavar="FILE")
@json_option
@common_options
def info_command(path, as_json):
    """Say what FILE holds: a model (options, progress, loss per epoch) or a vector file.

    \b
    Example:  w2v info run.w2v
    """
    import json

    from ..files.model_file import describe, is_model_file

    if not is_model_file(path):
        from ..files.formats import load_vectors

        wv = load_vectors(path)
        facts = {"path": path, "format": "vectors", "words": len(wv), "dim": wv.dim}
        click.echo(json.dumps(facts) if as_json else
                   f"{path}: vector file, {len(wv)} words, dim {wv.dim}")
        return
    from ..checkpoints import check_header
    from ..files.model_file import ModelFile

    other = _other_data_file(path)
    if other is not None:
        if as_json:
            click.echo(json.dumps(other, ensure_ascii=False))
            return
        lines = [f"{path}: w2v {other['kind']} ({other['format']})"]
        for name, value in other.items():
            if name == "pooling" and isinstance(value, dict):
                value = (f"{value['kind']}, dim {value['dim']}, {value['words']} words, "
                         f"{value['removed_components']} components removed")
            if isinstance(value, list):
                value = " ".join(value)
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            if name not in ("path", "kind", "format"):
                lines.append(f"{name.replace('_', ' ')}: {value}")
        click.echo("\n".join(lines))
        return
    with ModelFile(path) as model:
        check_header(path, model.header)  # the fields shown below, before describing them
    facts = describe(path)
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False))
        return
    config, position = facts["config"], facts["position"] or {}
    epochs = config.get("epochs")
    lines = [f"{path}: w2v model ({facts['format']}, written by w2v {facts['w2v_version']})",
             f"family: {facts['family']}", f"words: {facts['words']}", f"dim: {facts['dim']}",
             f"epochs: {position.get('epoch', 0)} of {epochs} done"
             + (f", {position['launch']} of {position.get('launches_per_epoch')} launches "
                f"into epoch {position['epoch'] + 1}" if position.get("launch") else "")]
    corpus = facts.get("corpus")
    if corpus:
        lines.append(f"corpus: {corpus['tokens']} tokens in {corpus['sentences']} sentences"
                     + (f" from {' '.join(corpus['inputs'])}" if corpus.get("inputs") else ""))
    if facts.get("train_seconds") is not None:
        lines.append(f"training time: {facts['train_seconds']:.1f} s")
    lines.append("options:")
    lines += [f"  {name.replace('_', '-')} = {json.dumps(value)}" for name, value in config.items()]
    if facts["losses"]:
        lines.append("loss per epoch:")
        lines += [f"  {entry['epoch']:>4}  {entry.get('loss', entry.get('cost')):.6f}"
                  for entry in facts["losses"]]
    click.echo("\n".join(lines))


def _other_data_file(path):
    """What a w2v data file other than a model holds (a document index, a pooling, a count
    file), as a JSON-able dict: its kind, format and sizes, read from its header and small
    members only; None for anything else (a model file, or not a w2v file)."""
    import json
    import zipfile

    from ..errors import InputError
    from ..files import container

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
        return None  # ModelFile says what is wrong with it
    if "meta.npy" in names:
        return _count_file(path)
    if "format.npy" in names:
        from ..documents.pooling import load_pooling

        pooling = load_pooling(path)
        with container.Container(path, container.POOLING) as f:
            version = str(f.array("format"))
        facts = _pooling_facts(pooling)
        return {"path": path, "kind": "pooling", "format": version,
                "pooling": facts.pop("kind"), **facts}
    if "header.npy" in names:
        try:
            with container.Container(path, container.INDEX) as f:
                header = json.loads(f.array("header").tobytes().decode("utf-8"))
        except (InputError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(header, dict) or header.get("format") != container.INDEX.format:
            return None
        from ..documents.index import open_index

        with open_index(path) as index:
            return {"path": path, "kind": "document index",
                    "format": f"{container.INDEX.format} {index.header['format_version']}",
                    "documents": len(index), "dim": int(index.unit.shape[1]),
                    "files": [f["path"] for f in index.files],
                    "vectors": index.header["vectors"].get("path"),
                    "pooling": _pooling_facts(index.pooling)}
    return None


def _pooling_facts(pooling):
    return {"kind": pooling.kind, "dim": pooling.dim, "words": pooling.n_words,
            "removed_components": pooling.remove_pc}


def _count_file(path):
    """Facts of a count file (`w2v cooccur`): its settings and sizes, the matrix unread."""
    from ..errors import InputError
    from ..files import container

    with container.Container(path, container.COUNTS) as f:
        meta = f.read_header()
        shape, indptr = f.array("shape"), f.array("indptr")
        if shape.shape != (2,) or shape.dtype.kind not in "iu" or indptr.ndim != 1 \
                or indptr.dtype.kind not in "iu":
            raise InputError(f.broken("its shape or indptr is damaged"))
    return {"path": path, "kind": "co-occurrence counts",
            "format": f"{container.COUNTS.format} {meta.get('version')}",
            "words": int(shape[0]), "non-zeros": int(indptr[-1]) if len(indptr) else 0,
            "window": meta.get("window"), "weighting": meta.get("weighting"),
            "symmetric": meta.get("symmetric", True)}


@click.command("convert", short_help="Rewrite a vector file in another format.")
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", default=None, metavar="PATH",
              help="Vectors file to write: binary if it ends in .bin or with --binary, else "
                   "text; '-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the output format.")
@click.option("--no-header", is_flag=True,
              help="Write GloVe's text format (word2vec text without the 'V D' line).")
@click.option("--projector", "projector_dir", default=None, metavar="DIR",
              help="Also (or instead of -o) write tensors.tsv and metadata.tsv into DIR for "
                   "the TensorFlow Embedding Projector.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Keep only the first N vectors (files are usually sorted by frequency).")
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@click.option("--fasttext", "as_fasttext", is_flag=True,
              help="Write a fastText .bin model (n-grams and all, for fasttext.load_model and "
                   "gensim's load_facebook_model) from a w2v subword model or a fastText .bin.")
@common_options
def convert_command(input_path, output, binary, no_header, projector_dir, limit, normalize,
                    as_fasttext):
    """Rewrite the vectors in INPUT (any format w2v reads; '-' is stdin) in another format.

    The input format is detected: word2vec binary or text, GloVe text, fastText .vec, a
    w2v model, a fastText .bin (its words' vectors composed with their n-grams, as
    fastText's .vec holds them). Turns GloVe C's output into files that gensim and
    word2vec C read, and back.
    --projector DIR writes the files that projector.tensorflow.org loads ("Load": first
    tensors.tsv, then metadata.tsv); a few thousand words (--limit) keep it responsive.

    \b
    Example:  w2v convert glove.6B.100d.txt -o glove.6B.100d.bin
              w2v convert vectors.bin -o - --limit 1000 | head
              w2v convert vectors.bin --projector proj/ --limit 5000
              w2v convert cc.en.300.bin -o cc.en.300.vec
              w2v convert subwords.w2v -o subwords.bin --fasttext
    """
    from ..files.formats import load_vectors, save_vectors
    from ..vectors.word_vectors import WordVectors

    if output is None and projector_dir is None:
        raise click.UsageError("give -o PATH, --projector DIR or both")
    if no_header and binary:
        raise click.UsageError("--no-header is for text output; drop --binary")
    if as_fasttext:
        given = [name for name, value in (("--binary/--text", binary is not None),
                                          ("--no-header", no_header), ("--limit", limit),
                                          ("--normalize", normalize),
                                          ("--projector", projector_dir is not None)) if value]
        if given:
            raise click.UsageError(f"--fasttext writes the whole model; drop {', '.join(given)}")
        if output is None or output == "-":
            raise click.UsageError("--fasttext writes a file; give -o PATH")
        check_writable(output)
        _convert_to_fasttext(input_path, output)
        return
    if output is not None:
        check_writable(output)
    if projector_dir is not None:
        from ..files.projector import projector_paths

        projector_paths(projector_dir)
    wv = load_vectors(input_path, limit=limit)
    if normalize:
        wv = WordVectors(wv.words, wv.unit, counts=wv.counts)
    if output is not None:
        save_vectors(wv, output, binary=None if no_header else binary,
                     format="glove" if no_header else None)
        log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
                 "<stdout>" if output == "-" else output)
    if projector_dir is not None:
        from ..files.projector import write_projector

        tensors, metadata = write_projector(wv, projector_dir)
        log.info("wrote %s and %s (%d vectors of dim %d)", tensors, metadata, len(wv), wv.dim)


def _convert_to_fasttext(input_path, output):
    from ..errors import InputError
    from ..files.fasttext import is_fasttext_bin, rewrite_fasttext_bin, write_model_as_fasttext
    from ..files.model_file import is_model_file

    if is_fasttext_bin(input_path):
        n_words, dim = rewrite_fasttext_bin(input_path, output)
    elif is_model_file(input_path):
        n_words, dim = write_model_as_fasttext(input_path, output)
    elif input_path != "-" and not os.path.exists(input_path):
        raise InputError(f"no such file: {input_path}")
    else:
        raise InputError(f"{input_path} is a vector file; --fasttext needs a subword model "
                         f"(w2v train --subwords --save-model) or a fastText .bin")
    log.info("wrote a fastText model of %d words, dim %d, to %s", n_words, dim, output)
