"""`w2v tune`: train the sentence encoder of a model contrastively on pairs of texts."""

import logging

import click

from ..documents.tune_options import TuneOptions
from ..runtime.atomic import check_writable
from .options import (
    common_options,
    default_of,
    load_query_vectors,
    progress_option,
    show_progress,
)

log = logging.getLogger("w2v")


def _default(name):
    """The default of a tune option: the library's, written once (`TuneOptions`)."""
    return default_of(TuneOptions, name)


@click.command("tune", short_help="Train the sentence encoder on pairs of texts (contrastive).")
@click.argument("pairs", nargs=-1, metavar="[PAIRS]...")
@click.option("-v", "--vectors", "vectors_path", required=True, metavar="MODEL",
              help="The start: a w2v model file (its counts give uSIF), or a vector file "
                   "with --vocab; a model written by 'w2v tune' goes on from its encoder.")
@click.option("-o", "--output", required=True, metavar="TUNED",
              help="The tuned model: the vectors with the tuned encoder, which 'w2v embed', "
                   "'index', 'search' and 'evaluate --sts' use by default.")
@click.option("--crops", "crops", multiple=True, metavar="CORPUS",
              help="Unsupervised pairs: two random spans of each line of this corpus "
                   "(repeatable).")
@click.option("--max-crops", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most this many crop pairs (the first lines of the corpus).")
@click.option("--loss", default=_default("loss"), show_default=True, metavar="LOSS",
              help="infonce, triplet, cosent or a combination (cosent+infonce); auto: "
                   "cosent+infonce for graded (STS) pairs, else infonce.")
@click.option("--temperature", type=float, default=None,
              help=f"InfoNCE's temperature.  [default: {_default('temperature')}; "
                   f"{_default('crops_temperature')} on --crops alone]")
@click.option("--margin", type=float, default=_default("margin"), show_default=True,
              help="The triplet loss's margin, and --semi-hard's.")
@click.option("--hard-negatives", type=int, default=_default("hard_negatives"),
              show_default=True, metavar="K",
              help="Mine K hard negatives per positive pair each epoch (exact top-n under "
                   "the current encoder).")
@click.option("--semi-hard", is_flag=True,
              help="Mined negatives must score below the positive, within --margin of it; "
                   "the first epochs take easier ones.")
@click.option("--false-negative-threshold", type=float, default=None, metavar="COS",
              help="A negative the guide scores above this is a suspected false negative, "
                   "weighted by --false-negative-weight.")
@click.option("--false-negative-weight", type=click.FloatRange(0, 1),
              default=_default("false_negative_weight"), show_default=True,
              help="The weight of a suspected false negative (0 drops it).")
@click.option("--guide", type=click.Choice(["untuned", "none"]), default=_default("guide"),
              show_default=True,
              help="Drop the negatives the untuned encoder scores above its anchor-positive "
                   "score (GISTEmbed's mask); none turns it off.")
@click.option("--min-score", type=float, default=_default("min_score"), show_default=True,
              help="STS pairs scored at least this are positives (all keep their score "
                   "for cosent).")
@click.option("--train", "trained", default=None, metavar="PARTS",
              help="What is trained: weights (per word), map (shared linear map), rows (the "
                   "rows of the words the pairs use), joined by +.  [default: rows; map+rows "
                   "with --asymmetric]")
@click.option("--epochs", type=int, default=None,
              help=f"Passes over the pairs.  [default: {_default('epochs')}; on --crops alone, "
                   f"passes until {_default('crops_pairs'):,} pairs are seen, at most "
                   f"{_default('epochs')}]")
@click.option("--batch-size", type=int, default=None,
              help=f"Pairs per batch.  [default: {_default('batch_size')}; "
                   f"{_default('crops_batch_size')} on --crops alone]")
@click.option("--lr", type=float, default=_default("lr"), show_default=True,
              help="Adam's step size for the weights and the map.")
@click.option("--row-lr", type=float, default=None,
              help=f"The step size for the word rows.  [default: {_default('row_lr')} with "
                   f"sgd, {_default('row_lr_adam')} with adam]")
@click.option("--row-optimizer", type=click.Choice(["sgd", "adam"]), default=None,
              help=f"How the rows move: sgd (each word's step at most 0.02 per batch) or "
                   f"lazy adam.  [default: {_default('row_optimizer')}; "
                   f"{_default('crops_row_optimizer')} on --crops alone]")
@click.option("--min-weight", type=click.FloatRange(min=0), default=None, metavar="W",
              help=f"Append the elementwise minimum of the words' rows, weighted W against "
                   f"the pooled vector (vectors twice as wide; 0: none).  [default: "
                   f"{_default('min_weight')}; {_default('crops_min_weight')} on --crops alone]")
@click.option("--row-pull", type=click.FloatRange(min=0), default=_default("row_pull"),
              show_default=True,
              help="L2 pull of the moved rows toward their start.")
@click.option("--dev", default=None, metavar="FILE",
              help="An STS file scored after each epoch (Spearman); the best epoch is kept.")
@click.option("--refit", type=click.Choice(["auto", "yes", "no"]), default=_default("refit"),
              show_default=True,
              help="Save the encoder without the components it removed during training, so "
                   "that embed finds those of the texts it embeds, as uSIF does; auto: yes "
                   "after training on --crops alone (corpus spans, unlike the texts embedded).")
@click.option("--asymmetric", is_flag=True,
              help="Queries and documents get their own map (for 'w2v search').")
@click.option("--vocab", "vocab_path", default=None, metavar="FILE",
              help="Word counts ('word count' lines) for uSIF when MODEL is a vector file.")
@click.option("--pooling", type=click.Choice(["mean", "sif", "usif"], case_sensitive=False),
              default=None, help="The pooling to start from.  [default: usif with word counts, "
                                 "else mean]")
@click.option("--preprocess", type=click.Choice(["none", "lower", "letters"],
                                                case_sensitive=False), default=None,
              help="Normalise the text first (letters: lowercase a-z, digits spelled out).  "
                   "[default: what the model's training applied]")
@click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting.")
@click.option("--checkpoint", default=None, metavar="FILE",
              help="Write the tuned model so far here after each epoch and on Ctrl-C; "
                   "'w2v tune -v FILE' goes on from it.")
@click.option("--seed", type=int, default=_default("seed"), show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@click.option("--threads", type=int, default=None, metavar="N",
              help="Threads for the kernels, parallel over the batch.  [default: 1, fastest "
                   "for batches of a few hundred pairs]")
@progress_option
@common_options
def tune_command(pairs, vectors_path, output, crops, max_crops, loss, temperature, margin,
                 hard_negatives, semi_hard, false_negative_threshold, false_negative_weight,
                 guide, min_score, trained, epochs, batch_size, lr, row_lr, row_optimizer,
                 min_weight, row_pull, dev, refit, asymmetric, vocab_path,
                 pooling, preprocess, lowercase, checkpoint, seed, threads, progress):
    """Train the sentence encoder of MODEL on PAIRS and write it with the vectors to TUNED.

    PAIRS are files of 'score<TAB>text1<TAB>text2' lines (STS: pairs scored at least
    --min-score are positives, and all are ranked by cosent) or of
    'anchor<TAB>positive[<TAB>negative...]' lines; --crops CORPUS adds unsupervised pairs.
    What is trained starts at the pooling (uSIF): per-word weights, a shared linear map
    after pooling, and the rows of the words the pairs use (--train); beside the pooled
    vector the encoder keeps the minimum of its words' rows (--min-weight). Text is
    tokenised as the model's was (--preprocess letters for raw text such as STS files when
    the model was trained on prepared text).

    \b
    Example:  w2v tune -v run.w2v stsb-train.txt --preprocess letters -o tuned.w2v
              w2v embed -v tuned.w2v sentences.txt -o sentences.npy
    """
    from ..documents.tune import tune
    from ..text.sources import check_inputs

    if not pairs and not crops:
        raise click.UsageError("give PAIRS files, --crops CORPUS, or both")
    check_inputs(list(pairs) + list(crops) + ([dev] if dev else []))
    check_writable(output, checkpoint)
    path, wv = load_query_vectors(vectors_path)
    result = tune(wv, pairs, path=path, crops=crops, output=output, pooling=pooling,
                  vocab_path=vocab_path, preprocess=preprocess, lowercase=lowercase, loss=loss,
                  temperature=temperature, margin=margin, hard_negatives=hard_negatives,
                  semi_hard=semi_hard, false_negative_threshold=false_negative_threshold,
                  false_negative_weight=false_negative_weight, guide=guide,
                  min_score=min_score, epochs=epochs, batch_size=batch_size, lr=lr,
                  row_lr=row_lr, row_optimizer=row_optimizer, min_weight=min_weight,
                  row_pull=row_pull, dev=dev, refit=refit,
                  seed=seed, threads=threads, asymmetric=asymmetric, train=trained,
                  max_crops=max_crops, checkpoint=checkpoint, progress=show_progress(progress))
    best = f" (epoch {result.best_epoch}, dev spearman {100 * result.dev:.2f})" \
        if result.dev is not None else ""
    log.info("wrote the tuned model (%d pairs, %d epochs%s) to %s", result.pairs,
             len(result.epochs), best, output)
