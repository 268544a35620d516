"""`w2v train`: Skip-gram and CBOW (word2vec), new, resumed, or trained on from a model."""

import logging

import click

from ..checkpoints import recorded_inputs
from ..config import Word2VecConfig
from ..errors import OptionError
from ..runtime.atomic import check_writable
from .options import (checkpoint_every_option, common_options, corpus_optional, corpus_options,
                      default_of, default_vectors_path, given_options, model_output,
                      phrase_options, progress_option, show_progress, threads_option,
                      vector_output_options, warn_resume_command)

log = logging.getLogger("w2v")


@click.command(short_help="Train Skip-gram or CBOW vectors (word2vec).")
@corpus_optional
@corpus_options
@vector_output_options
@click.option("--model", default=default_of(Word2VecConfig, "model"),
              show_default=True, metavar="sg|cbow",
              help="Skip-gram or continuous bag of words.")
@click.option("--dim", type=int, default=default_of(Word2VecConfig, "dim"),
              show_default=True, help="Vector dimension.")
@click.option("--window", type=int, default=default_of(Word2VecConfig, "window"), show_default=True,
              help="Maximum distance between centre and context word (the effective window "
                   "is drawn uniformly from 1..N per word).")
@click.option("--negative", type=int, default=default_of(Word2VecConfig, "negative"),
              show_default=True,
              help="Noise words per example (0 turns negative sampling off; needs --hs).")
@click.option("--hs", is_flag=True, help="Hierarchical softmax over a Huffman tree "
                                         "(alone with --negative 0, or together).")
@click.option("--ns-exponent", type=float, default=None,
              help="Noise distribution: counts raised to this power.  [default: 0.75; 0.5 "
                   "with --subwords, as fastText]")
@click.option("--sample", type=float, default=default_of(Word2VecConfig, "sample"),
              show_default=True,
              help="Subsampling threshold for frequent words (0: off).")
@click.option("--epochs", type=int, default=default_of(Word2VecConfig, "epochs"),
              show_default=True, help="Passes over the corpus.")
@click.option("--alpha", type=float, default=None,
              help="Starting learning rate.  [default: 0.025 for sg, 0.065 for cbow with "
                   "negative sampling alone, 0.05 for cbow with --hs or --subwords]")
@click.option("--min-alpha", type=float, default=None,
              help="Final learning rate (linear decay).  [default: alpha x 0.1 for cbow "
                   "with negative sampling alone, else alpha x 1e-4]")
@threads_option("Training threads.")
@click.option("--seed", type=int, default=default_of(Word2VecConfig, "seed"), show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@click.option("--cbow-mean/--cbow-sum", default=default_of(Word2VecConfig, "cbow_mean"),
              show_default=True,
              help="CBOW: average or sum the context vectors.")
@click.option("--kernel", default=default_of(Word2VecConfig, "kernel"),
              show_default=True, metavar="auto|classic|batched",
              help="batched: negative sampling with one set of negatives shared by a "
                   "skip-gram window (pWord2Vec; 1.7x the classic kernel's speed on 10M "
                   "tokens, as good or better on every evaluation set) or by 8 consecutive "
                   "CBOW windows; classic: word2vec C's per-pair updates. auto: batched for "
                   "skip-gram with negative sampling alone (without --subwords), else "
                   "classic.")
@click.option("--subwords", is_flag=True,
              help="fastText's model: a word's input vector is the mean of its own row and "
                   "its character n-gram rows, so unseen words get vectors too. The n-gram "
                   "matrix is --bucket x --dim float32 (800 MB at the defaults with dim 100): "
                   "lower --bucket on small machines.")
@click.option("--eos", is_flag=True,
              help="End every line with fastText's </s> token, a word of the vocabulary, as "
                   "fastText reads text (with --subwords it has no n-grams).")
@click.option("--minn", type=int, default=default_of(Word2VecConfig, "minn"), show_default=True,
              help="With --subwords: shortest character n-gram.")
@click.option("--maxn", type=int, default=default_of(Word2VecConfig, "maxn"), show_default=True,
              help="With --subwords: longest character n-gram (0: none).")
@click.option("--bucket", type=int, default=default_of(Word2VecConfig, "bucket"), show_default=True,
              help="With --subwords: n-gram hash buckets, one row of --dim floats each.")
@click.option("--save-vocab", default=None, metavar="PATH", help="Also write the vocabulary.")
@click.option("--read-vocab", default=None, metavar="PATH",
              help="Use this vocabulary ('word count' lines) instead of counting the corpus.")
@click.option("--save-context", default=None, metavar="PATH",
              help="Also write the output-side (context) vectors, e.g. to use W+C.")
@click.option("--save-fasttext", default=None, metavar="PATH",
              help="With --subwords: also write fastText's .bin (fasttext.load_model, gensim's "
                   "load_facebook_model), n-gram rows and all.")
@click.option("--save-model", default=None, metavar="PATH",
              help="Keep the whole model in one file (options, vocabulary, all weights, "
                   "position), rewritten at every epoch end and every --checkpoint-every "
                   "seconds, and on Ctrl-C/SIGTERM.")
@checkpoint_every_option
@click.option("--resume", default=None, metavar="MODEL",
              help="Continue an interrupted run from its model file, to the same bits as an "
                   "unbroken run (threads 1); CORPUS defaults to the recorded inputs.")
@click.option("--init-model", default=None, metavar="MODEL",
              help="Start from this model's weights on a new CORPUS, with a fresh "
                   "learning-rate schedule from --alpha.")
@click.option("--update-vocab", is_flag=True,
              help="With --init-model: add the new corpus's words that reach --min-count.")
@click.option("--loss-log", default=None, metavar="PATH",
              help="Write one TSV line per launch (epoch, launch, words, alpha, loss, seconds).")
@phrase_options
@progress_option
@common_options
@click.pass_context
def train(ctx, corpus, output, binary, save_vocab, read_vocab, save_context, save_fasttext,
          save_model, checkpoint_every, resume, init_model, update_vocab, loss_log, threads,
          progress, **options):
    """Train Skip-gram or CBOW vectors (negative sampling and/or hierarchical softmax).

    CORPUS: text files (gz/bz2/xz too), globs, or '-' for stdin; one sentence per line.

    \b
    Example:  w2v train data/enwiki-1m.txt.xz -o vectors.bin --model sg --epochs 5
              w2v train corpus.txt -o v.bin --save-model run.w2v      # interruptible
              w2v train --resume run.w2v -o v.bin                      # after Ctrl-C
              w2v train new.txt --init-model run.w2v --update-vocab -o v2.bin
    """
    from ..corpus.vocab import read_vocab as read_vocab_file, save_vocab as write_vocab
    from ..files.formats import save_vectors
    from ..runtime import signals
    from ..word2vec.model import continuable, prepare, resumable, train as train_model

    given = given_options(ctx, options)
    if resume and init_model:
        raise click.UsageError("--resume continues a run; --init-model starts a new one: "
                               "give one of them")
    if update_vocab and not init_model:
        raise click.UsageError("--update-vocab needs --init-model MODEL")
    if not corpus and not resume:
        raise click.UsageError("missing CORPUS (files, globs or '-' for stdin)")
    if read_vocab and (resume or init_model):
        raise click.UsageError("--read-vocab cannot change a saved model's vocabulary "
                               "(--update-vocab adds the new corpus's words)")
    save_to = model_output(ctx, save_model, resume)
    output = output or default_vectors_path()
    check_writable(output, save_vocab, save_context, save_fasttext, save_to, loss_log)
    show = show_progress(progress)

    start = base = vocab = None
    if resume:
        start = resumable(resume, {name: options[name] for name in given})
        config = start.config
        if not corpus:
            corpus = recorded_inputs(start.corpus)
    elif init_model:
        base, config = continuable(init_model, {name: options[name] for name in given},
                                   update_vocab)
    else:
        config = Word2VecConfig.from_dict(options)
    if save_context and config.negative == 0:
        raise OptionError("--save-context needs negative sampling (--negative >= 1): "
                          "hierarchical softmax has no per-word output vectors")
    if save_fasttext and not (config.subwords and config.negative):
        raise OptionError("--save-fasttext writes fastText's subword model: it needs "
                          "--subwords and negative sampling (--negative >= 1)")
    if read_vocab:
        vocab = read_vocab_file(read_vocab, min_count=config.min_count,
                                max_vocab=config.max_vocab)
    model, loaded = prepare(corpus, config, resume=start, base=base, update_vocab=update_vocab,
                            vocab=vocab, threads=threads, progress=show)
    if save_vocab:
        write_vocab(model.vocab, save_vocab)
    try:
        train_model(model, loaded, threads=threads, progress=show, save_to=save_to,
                    checkpoint_every=checkpoint_every, loss_log=loss_log, inputs=corpus)
    except signals.Interrupted:
        warn_resume_command("train", save_to, [("-o", output), ("--save-context", save_context),
                                               ("--save-fasttext", save_fasttext),
                                               ("--loss-log", loss_log)])
        raise
    wv = model.vectors()
    save_vectors(wv, output, binary=binary)
    if save_context:
        save_vectors(model.context_vectors(), save_context, binary=binary)
    if save_fasttext:
        from ..files.fasttext import write_weights_as_fasttext

        write_weights_as_fasttext(save_fasttext, config.to_dict(), model.vocab.words,
                                  model.vocab.counts, model.w_in, model.w_out)
        log.info("wrote fastText's model (%d words, %d n-gram buckets) to %s", len(wv),
                 config.bucket, save_fasttext)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)
