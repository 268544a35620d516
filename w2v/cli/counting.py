"""`w2v cooccur`, `w2v glove` and `w2v svd`: the commands that count co-occurrences."""

import logging

import click

from ..config import GloveConfig, SvdConfig
from ..runtime.atomic import check_writable
from .options import (checkpoint_every_option, common_options, corpus_optional, corpus_options,
                      dask_options, dask_target, default_of, default_vectors_path,
                      given_options, memory_type, model_output, one_input, phrase_options,
                      progress_option, show_progress, threads_option, vector_output_options,
                      warn_resume_command)

log = logging.getLogger("w2v")


def counting_options(func):
    """Options of co-occurrence counting, shared by `cooccur` and `glove`."""
    options = [
        click.option("--window", type=int, default=default_of(GloveConfig, "window"),
                     show_default=True,
                     help="Count words at most this far apart (never across a line)."),
        click.option("--weighting", default=default_of(GloveConfig, "weighting"),
                     show_default=True,
                     metavar="harmonic|uniform|linear",
                     help="Weight of a pair at distance d: 1/d (GloVe), 1, or "
                          "(window - d + 1)/window (word2vec's dynamic window)."),
        click.option("--memory", type=memory_type(), default=None, metavar="GB",
                     help="Memory bound for counting; past it, sorted partial counts spill to "
                          "one temporary file.  [default: half the available memory]"),
        click.option("--tmp-dir", default=None, metavar="DIR",
                     help="Where spilled counts go.  [default: $TMPDIR, else /tmp]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("cooccur", short_help="Count co-occurrences once, for glove or svd.")
@corpus_options
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Count file to write (.npz: the matrix, the vocabulary, the settings).")
@counting_options
@click.option("--symmetric/--left-only", default=True, show_default=True,
              help="Count pairs in both directions, or only the words left of each word "
                   "(GloVe C's -symmetric 0).")
@threads_option("Counting threads (per worker with --dask).")
@dask_options
@progress_option
@common_options
def cooccur_command(corpus, min_count, max_vocab, lowercase, preprocess, max_sentence_length,
                    output, window, weighting, memory, tmp_dir, symmetric, threads, dask, workers,
                    progress):
    """Count word co-occurrences in CORPUS within a window; save them for glove or svd.

    Counting runs in bounded memory (--memory): a corpus whose counts do not fit still
    completes. Train on the file as often as needed with --read-cooccur.

    \b
    Example:  w2v cooccur data/enwiki-1m.txt.xz -o counts.npz --window 10
              w2v glove --read-cooccur counts.npz -o glove.bin
    """
    from ..cooccur.counts import check_options
    from ..cooccur.file import save_cooccur
    from ..glove.model import count_corpus

    check_options(window, weighting, memory, threads)
    check_writable(output)
    cluster = dask_target(dask, workers)
    counting = GloveConfig(min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                           preprocess=preprocess, max_sentence_length=max_sentence_length,
                           window=window, weighting=weighting)
    matrix, vocab, _ = count_corpus(corpus, counting, symmetric=symmetric, memory=memory,
                                    tmp_dir=tmp_dir, threads=threads,
                                    progress=show_progress(progress), dask=cluster,
                                    workers=workers, fingerprint=False)
    save_cooccur(output, matrix, vocab, window, weighting, symmetric=symmetric)
    log.info("wrote %d non-zeros over %d words to %s", matrix.nnz, len(vocab), output)


@click.command("glove", short_help="Train GloVe vectors (Pennington et al. 2014).")
@corpus_optional
@corpus_options
@vector_output_options
@click.option("--dim", type=int, default=default_of(GloveConfig, "dim"),
              show_default=True, help="Vector dimension.")
@counting_options
@click.option("--epochs", type=int, default=default_of(GloveConfig, "epochs"), show_default=True,
              help="Passes over the non-zero counts.")
@click.option("--eta", type=float, default=default_of(GloveConfig, "eta"), show_default=True,
              help="AdaGrad learning rate.")
@click.option("--x-max", type=float, default=default_of(GloveConfig, "x_max"), show_default=True,
              help="Counts at or above this get full weight in the loss.")
@click.option("--alpha", type=float, default=default_of(GloveConfig, "alpha"), show_default=True,
              help="Exponent of the weighting function (x / x-max)^alpha.")
@click.option("--grad-clip", type=float, default=default_of(GloveConfig, "grad_clip"),
              show_default=True,
              help="Clip every gradient component (biases too) to +-this.")
@click.option("--output-vectors", default=default_of(GloveConfig, "output_vectors"),
              show_default=True, metavar="sum|word|context",
              help="Write word + context vectors, or one of them.")
@click.option("--save-cooccur", default=None, metavar="PATH",
              help="Also save the counts, to train again with --read-cooccur.")
@click.option("--read-cooccur", default=None, metavar="PATH",
              help="Train on counts saved by 'w2v cooccur' or --save-cooccur, not a CORPUS.")
@click.option("--save-model", default=None, metavar="PATH",
              help="Keep the whole model in one file (options, vocabulary, vectors, biases, "
                   "AdaGrad sums, position), rewritten at every epoch end, every "
                   "--checkpoint-every seconds, and on Ctrl-C/SIGTERM.")
@checkpoint_every_option
@click.option("--resume", default=None, metavar="MODEL",
              help="Continue an interrupted run from its model file, to the same bits as an "
                   "unbroken run (threads 1); the counts default to the recorded CORPUS or "
                   "--read-cooccur file, and must be the same.")
@click.option("--loss-log", default=None, metavar="PATH",
              help="Write one TSV line per launch (epoch, launch, non-zeros, cost, seconds).")
@threads_option("Counting and training threads.")
@click.option("--seed", type=int, default=default_of(GloveConfig, "seed"), show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@phrase_options
@dask_options
@click.option("--blocks", type=click.IntRange(min=1, max=4096), default=None, metavar="K",
              help="Train by block rotation over K x K blocks of the counts (K sub-epochs "
                   "an epoch, K disjoint blocks at once); with --dask on the cluster's "
                   "workers (the counts too), else one block after another in this process, "
                   "to the same bits with --threads 1.  [default with --dask: the number of "
                   "workers]")
@progress_option
@common_options
@click.pass_context
def glove_command(ctx, corpus, output, binary, memory, tmp_dir, save_cooccur, read_cooccur,
                  save_model, checkpoint_every, resume, loss_log, threads, dask, workers, blocks,
                  progress, **options):
    """Train GloVe vectors (Pennington et al. 2014) on CORPUS or on saved counts.

    Fits w_i . c_j + b_i + b_j to log X_ij by weighted least squares with AdaGrad, over
    the non-zero co-occurrence counts in a fresh random order every epoch; the cost of
    every epoch goes to stderr.

    \b
    Example:  w2v glove data/enwiki-1m.txt.xz -o glove.bin --epochs 15
              w2v glove corpus.txt --save-cooccur counts.npz -o glove.bin
              w2v glove --read-cooccur counts.npz --dim 300 -o glove300.bin
              w2v glove corpus.txt -o glove.bin --save-model run.w2v   # interruptible
              w2v glove --resume run.w2v -o glove.bin                  # after Ctrl-C
              w2v glove corpus.txt -o glove.bin --dask tcp://sched:8786  # on a cluster
    """
    import contextlib

    from click.core import ParameterSource

    from ..cooccur.counts import check_options as check_counting
    from ..files.formats import save_vectors
    from ..distributed.cluster import connect
    from ..glove.blocks import resume_blocks, train_rotation
    from ..glove.model import prepare, resumable, train as train_model
    from ..runtime import signals

    given = given_options(ctx, options)
    if resume:
        if corpus and read_cooccur:
            raise click.UsageError("give a CORPUS or --read-cooccur PATH, not both")
    else:
        one_input(corpus, read_cooccur)
    if read_cooccur and save_cooccur:
        raise click.UsageError("--save-cooccur needs a CORPUS to count")
    config = GloveConfig.from_dict(options)  # every value checked, resumed or not
    if read_cooccur and config.phrases:
        raise click.UsageError("--phrases works on a CORPUS, not on --read-cooccur counts")
    check_counting(config.window, config.weighting, memory, threads)
    save_to = model_output(ctx, save_model, resume)
    output = output or default_vectors_path()
    check_writable(output, save_cooccur, save_to, loss_log)
    show = show_progress(progress)
    cluster = dask_target(dask, workers)
    if cluster is not None:
        if config.phrases:
            raise click.UsageError("--phrases runs in one process; drop --dask, or run `w2v "
                                   "phrases` first and train on its output on the cluster")
        if "-" in corpus:
            raise click.UsageError("--dask reads files that every worker can open, not stdin "
                                   "('-')")

    model = None
    if resume:
        model = resumable(resume, {name: options[name] for name in given},
                          mmap=cluster is not None)
        if not (blocks or cluster is not None) and model.position.launch and \
                model.position.rotation:
            blocks = model.position.rotation  # its rotation goes on, in this process
    rotation = blocks is not None or cluster is not None
    if rotation:
        blocks = resume_blocks(model, blocks)  # before any work: a mid-epoch model's K
    # settings given on the command line must match a count file; defaults yield to it
    match = {name: options[name] for name in ("window", "weighting")
             if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    with (connect(cluster, workers) if cluster is not None else
          contextlib.nullcontext()) as client:
        counting = dict(cooccur=read_cooccur, resume=model, match=match, memory=memory,
                        tmp_dir=tmp_dir, save_cooccur=save_cooccur, threads=threads,
                        progress=show)
        if cluster is not None:  # the counts of a CORPUS stay on the workers
            from ..glove.cluster import prepare_on_cluster

            model, matrix, source = prepare_on_cluster(client, corpus, config, **counting)
        else:
            model, matrix, source = prepare(corpus, config, **counting)
        counts = [matrix]
        del matrix  # train gets the only reference, and frees the counts once dealt
        training = dict(threads=threads, progress=show, save_to=save_to,
                        checkpoint_every=checkpoint_every, loss_log=loss_log, source=source)
        try:
            if cluster is not None:
                from ..glove.cluster import train_on_cluster

                train_on_cluster(model, counts.pop(), client, blocks=blocks, tmp_dir=tmp_dir,
                                 **training)
            elif rotation:
                train_rotation(model, counts.pop(), blocks, **training)
            else:
                train_model(model, counts.pop(), **training)
        except signals.Interrupted:
            warn_resume_command("glove", save_to, [("-o", output), ("--loss-log", loss_log)])
            raise
    wv = model.row_vectors()  # a slice at a time: a cluster's model is memory-mapped
    save_vectors(wv, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


@click.command("svd", short_help="Train PPMI + SVD vectors (Levy et al. 2015).")
@corpus_optional
@corpus_options
@vector_output_options
@click.option("--read-cooccur", default=None, metavar="PATH",
              help="Start from counts saved by 'w2v cooccur' instead of a CORPUS.")
@click.option("--dim", type=int, default=default_of(SvdConfig, "dim"), show_default=True,
              help="Rank of the SVD (vector dimension).")
@click.option("--window", type=int, default=default_of(SvdConfig, "window"), show_default=True,
              help="Count words at most this far apart.")
@click.option("--weighting", default=default_of(SvdConfig, "weighting"), show_default=True,
              metavar="linear|harmonic|uniform",
              help="Weight of a pair at distance d: (window - d + 1)/window, 1/d, or 1.")
@click.option("--sample", type=float, default=default_of(SvdConfig, "sample"), show_default=True,
              help="Subsample frequent words before counting, as word2vec's -sample (0: off).")
@click.option("--cds", type=float, default=default_of(SvdConfig, "cds"), show_default=True,
              help="Context distribution smoothing: context counts raised to this power.")
@click.option("--neg", type=float, default=default_of(SvdConfig, "neg"), show_default=True,
              help="Shift: subtract log(NEG) from PMI before clipping at 0 (1: no shift).")
@click.option("--eig", type=float, default=default_of(SvdConfig, "eig"), show_default=True,
              help="Vectors are U S^EIG (0: U alone, 1: U S).")
@click.option("--add-context", is_flag=True, help="Add the context vectors: U S^p + V S^p.")
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@click.option("--solver", default=default_of(SvdConfig, "solver"),
              show_default=True, metavar="randomized|arpack",
              help="Randomized range finder (fast), or ARPACK's Lanczos (exact, slower).")
@click.option("--power-iterations", type=int, default=default_of(SvdConfig, "power_iterations"),
              show_default=True,
              help="Randomized solver: passes that sharpen the subspace.")
@click.option("--fit-words", type=int, default=None, metavar="N",
              help="Fit the SVD to the N most frequent words only and fold the rest in "
                   "(about 15000 helped every benchmark set but one on 10M-50M tokens).")
@threads_option("Threads for counting, products and BLAS.")
@click.option("--seed", type=int, default=default_of(SvdConfig, "seed"), show_default=True,
              help="Seeds subsampling and the solver's starting vectors.")
@phrase_options
@dask_options
@progress_option
@common_options
def svd_command(corpus, min_count, max_vocab, lowercase, preprocess, max_sentence_length, output,
                binary,
                read_cooccur, dim, window, weighting, sample, cds, neg, eig, add_context,
                normalize, solver, power_iterations, fit_words, threads, seed, phrases,
                phrase_threshold, dask, workers, progress):
    """PPMI + truncated SVD vectors (Levy, Goldberg & Dagan 2015) from CORPUS or counts.

    Counts co-occurrences, takes the shifted positive PMI with smoothed context
    probabilities, and keeps U S^EIG of its rank-DIM SVD.

    \b
    Example:  w2v svd data/enwiki-1m.txt.xz -o svd.bin
              w2v svd --config configs/svd-levy.toml corpus.txt -o svd500.bin
    """
    from ..files.formats import save_vectors
    from ..svd.svd import check_svd_options, svd_vectors

    one_input(corpus, read_cooccur)
    check_svd_options(dim=dim, window=window, weighting=weighting, sample=sample, cds=cds,
                      neg=neg, eig=eig, solver=solver, power_iterations=power_iterations,
                      fit_words=fit_words)
    output = output or default_vectors_path()
    check_writable(output)
    show = show_progress(progress)
    cluster = dask_target(dask, workers)
    if read_cooccur and cluster is not None:
        raise click.UsageError("--dask counts a CORPUS; --read-cooccur counts are already made")
    config = SvdConfig(min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                       preprocess=preprocess, max_sentence_length=max_sentence_length,
                       phrases=phrases, dim=dim, window=window, weighting=weighting,
                       sample=sample, cds=cds, neg=neg, eig=eig, add_context=add_context,
                       normalize=normalize, solver=solver, power_iterations=power_iterations,
                       fit_words=fit_words, seed=seed)
    sample_source = click.get_current_context().get_parameter_source("sample")
    given = () if sample_source == click.core.ParameterSource.DEFAULT else ("sample",)
    wv = svd_vectors(corpus, config, cooccur=read_cooccur, given=given,
                     phrase_threshold=phrase_threshold, threads=threads, progress=show,
                     dask=cluster, workers=workers)
    save_vectors(wv, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)
