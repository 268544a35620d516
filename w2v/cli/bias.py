"""`w2v bias` and `w2v debias`: WEAT tests and debiasing.

They only read and write vectors: numpy, never numba (tests/test_bias_cli.py).
"""

import logging

import click

from ..errors import W2VError
from ..runtime.atomic import check_writable
from .options import (common_options, json_option, load_query_vectors, number, percent,
                      vectors_option)

log = logging.getLogger("w2v")


@click.command("bias", short_help="WEAT bias tests: effect size, statistic, p-value.")
@vectors_option
@click.option("--test", "test_names", multiple=True, metavar="NAME",
              help="A test to run (repeatable): a standard one (see --list) or one from "
                   "--tests-file.  [default: all standard tests, or all of --tests-file]")
@click.option("--tests-file", default=None, metavar="FILE",
              help="TOML file of user tests: a [NAME] table each with word lists X, Y "
                   "(targets) and A, B (attributes).")
@click.option("--permutations", type=click.IntRange(min=1), default=100000, show_default=True,
              help="Exact p-value when X and Y split into at most this many ways, else this "
                   "many random splits.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the random splits.")
@click.option("--list", "list_tests", is_flag=True, help="List the standard tests and exit.")
@json_option
@common_options
def bias_command(vectors_path, test_names, tests_file, permutations, seed, list_tests, as_json):
    """WEAT (Caliskan et al. 2017) on the vectors: for each test, the effect size, the test
    statistic, a one-sided permutation p-value and the words not in the vocabulary.

    Words are looked up as written, else lowercased. A test whose set has no word in the
    vocabulary is reported on stderr after the others, and the exit status is 1.

    \b
    Example:  w2v bias -v vectors.bin
              w2v bias -v vectors.bin --test gender-career --test gender-math --json
              w2v bias -v vectors.bin --tests-file my-tests.toml
    """
    import json

    from ..bias.weat import run_tests, select_tests, standard_tests

    if list_tests:
        for test in standard_tests().values():
            click.echo(f"{test.name}\t{test.description}")
        return
    tests = select_tests(test_names, tests_file)
    _, wv = load_query_vectors(vectors_path)
    results, failures = run_tests(wv, tests, permutations, seed)
    if as_json:
        for result in results:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif results:
        click.echo(_bias_table(results))
    if failures:
        raise W2VError("; ".join(map(str, failures)) if len(failures) == 1 else
                       f"{len(failures)} of {len(tests)} tests could not run: "
                       + "; ".join(map(str, failures)))


def _bias_table(results):
    rows = [f"{'test':<22}{'effect size':>12}{'statistic':>11}{'p-value':>10}  "
            f"{'p from':<16}{'words':>8}"]
    for r in results:
        found = sum(len(v) for v in r.found.values())
        total = found + sum(len(v) for v in r.missing.values())
        rows.append(f"{r.test.name:<22}{number(r.effect_size):>12}{number(r.statistic):>11}"
                    f"{r.p_value:>10.2g}  {f'{r.partitions} {r.p_method}':<16}"
                    f"{f'{found}/{total}':>8}")
    missing = [(r.test.name, key, words) for r in results for key, words in r.missing.items()
               if words]
    if missing:
        rows.append("not in the vocabulary:")
        rows += [f"  {name} {key}: {' '.join(words)}" for name, key, words in missing]
    return "\n".join(rows)


@click.command("debias", short_help="Hard debiasing (Bolukbasi et al. 2016), INLP or "
                                  "Double-Hard.")
@vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Debiased vectors: binary if it ends in .bin or with --binary, else text; "
                   "'-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the output format.")
@click.option("--pairs", "pairs_file", default=None, metavar="FILE",
              help="Definitional pairs that give the bias direction (JSON list of pairs, or "
                   "'a b' lines).  [default: Bolukbasi et al.'s she/he, her/his, ...]")
@click.option("--specific", "specific_file", default=None, metavar="FILE",
              help="Words not to neutralise (JSON list, or one per line).  [default: "
                   "Bolukbasi et al.'s gender-specific words]")
@click.option("--equalize", "equalize_file", default=None, metavar="FILE",
              help="Pairs to equalise (as --pairs).  [default: Bolukbasi et al.'s]")
@click.option("--components", type=click.IntRange(min=1), default=None,
              help="hard: dimension of the bias subspace (principal components of the "
                   "pairs).  [default: 1]")
@click.option("--method", type=click.Choice(["hard", "inlp", "double-hard"],
                                            case_sensitive=False),
              default="hard", show_default=True,
              help="hard: Bolukbasi et al.'s neutralise and equalise; inlp: iterative "
                   "nullspace projection (Ravfogel et al. 2020); double-hard: remove a "
                   "frequency direction, then hard (Wang et al. 2020).")
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="inlp: classifiers trained, each removing up to 2 directions.  "
                   "[default: 2]")
@click.option("--components-searched", type=click.IntRange(min=1), default=None,
              help="double-hard: principal components tried as the frequency direction.  "
                   "[default: 20, or all of fewer dimensions]")
@click.option("--cluster-words", type=click.IntRange(min=1), default=None,
              help="double-hard: words on each side of he - she that K-means must fail to "
                   "split.  [default: 500]")
@click.option("--report/--no-report", default=True, show_default=True,
              help="WEAT effect sizes, questions-words and WS353 before and after, on stderr.")
@common_options
def debias_command(vectors_path, output, binary, pairs_file, specific_file, equalize_file,
                   components, method, iterations, components_searched, cluster_words,
                   report):
    """Debias the vectors. --method hard (Bolukbasi et al. 2016, as their debiaswe does):
    find the bias direction by PCA over definitional pairs, remove it from every word not
    in the gender-specific list, and equalise the equality pairs; the output has unit
    vectors. --method inlp (Ravfogel et al. 2020): train a linear classifier to tell the
    words most male, most female and least gendered along he - she apart (WEAT words never
    among them), project onto its nullspace, and repeat; every word not in the
    gender-specific list gets the final projection. --method double-hard (Wang et al.
    2020): centre the vectors, remove the principal component (of the first 20) whose
    removal best stops K-means from splitting the most male and most female words after
    hard debiasing, then hard-debias.

    Reports on stderr (unless -q or --no-report) the standard WEAT effect sizes, the
    questions-words accuracy and the WS353 correlation before and after.

    \b
    Example:  w2v debias -v vectors.bin -o debiased.bin
              w2v debias -v vectors.bin -o d.bin --pairs my-pairs.txt --specific keep.txt
              w2v debias -v vectors.bin -o d.bin --method inlp --iterations 2
              w2v debias -v vectors.bin -o d.bin --method double-hard
    """
    from ..bias.hard import hard_debias, read_pairs, read_words
    from ..files.formats import save_vectors

    method = method.lower()
    hard_only = [name for name, value in (("--pairs", pairs_file), ("--equalize", equalize_file),
                                          ("--components", components)) if value is not None]
    if method == "inlp" and hard_only:
        raise click.UsageError(f"{hard_only[0]} applies to --method hard or double-hard "
                               "only")
    if method != "inlp" and iterations is not None:
        raise click.UsageError("--iterations applies to --method inlp only")
    double_only = [name for name, value in (("--components-searched", components_searched),
                                            ("--cluster-words", cluster_words))
                   if value is not None]
    if method != "double-hard" and double_only:
        raise click.UsageError(f"{double_only[0]} applies to --method double-hard only")
    check_writable(output)
    pairs = read_pairs(pairs_file, "definitional pairs") if pairs_file else None
    specific = read_words(specific_file, "gender-specific words") if specific_file else None
    equalize = read_pairs(equalize_file, "equalize pairs") if equalize_file else None
    _, wv = load_query_vectors(vectors_path)
    if method == "inlp":
        from ..bias.hard import default_lists
        from ..bias.inlp import DEFAULT_ITERATIONS, inlp_debias

        keep = specific if specific is not None else default_lists()[2]
        result = inlp_debias(wv, iterations or DEFAULT_ITERATIONS, keep=keep)
        if result.overlap:  # cannot happen with the default exclusions; checked anyway
            raise W2VError("INLP training words include WEAT words: "
                           + " ".join(result.overlap))
        log.info("INLP removed %d directions; projected %d words, kept %d gender-specific "
                 "ones; training words: %s, none of them a WEAT word", len(result.basis),
                 result.projected, len(wv) - result.projected,
                 ", ".join(f"{len(v)} {k}" for k, v in result.classes.items()))
    elif method == "double-hard":
        from ..bias.double_hard import DEFAULT_PER_SIDE, double_hard_debias

        result = double_hard_debias(wv, pairs, equalize, specific, components or 1,
                                    components_searched, cluster_words or DEFAULT_PER_SIDE)
        log.info("Double-Hard removed principal component %d of %d (clustering accuracy "
                 "%.3f); then hard debiasing along %d definitional pairs, neutralised %d "
                 "words, equalised %d pairs", result.component + 1, len(result.accuracies),
                 result.accuracies[result.component], len(result.hard.definitional),
                 result.hard.neutralized, len(result.hard.equalized))
        log.info("clustering words: %d male, %d female by cosine with he - she; WEAT words "
                 "among them (not used to choose anything): %s",
                 len(result.cluster_words["male"]), len(result.cluster_words["female"]),
                 " ".join(result.overlap) or "none")
    else:
        result = hard_debias(wv, pairs, equalize, specific, components or 1)
        shares = ", ".join(f"{100 * x:.1f}%" for x in result.explained[:3])
        log.info("bias %s from %d definitional pairs (variance shares of the first "
                 "components: %s); neutralised %d words, equalised %d pairs",
                 "direction" if (components or 1) == 1
                 else f"subspace of {components} dimensions",
                 len(result.definitional), shares, result.neutralized, len(result.equalized))
    save_vectors(result.vectors, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)
    if report and log.isEnabledFor(logging.INFO):
        for line in _debias_report(wv, result.vectors):
            log.info("%s", line)


def _debias_report(before, after):
    """Lines comparing WEAT effect sizes and the bundled evaluations before and after."""
    from ..bias.hard import compare_debiased

    c = compare_debiased(before, after)
    lines = [f"{'WEAT test':<22}{'effect before':>14}{'after':>8}"
             f"{'statistic before':>18}{'after':>8}"]
    lines += [f"{old.test.name:<22}{number(old.effect_size):>14}{number(new.effect_size):>8}"
              f"{number(old.statistic):>18}{number(new.statistic):>8}"
              for old, new in zip(c.weat_before, c.weat_after)]
    (a0, a1), (s0, s1) = c.analogies, c.similarity
    change = a1.accuracy - a0.accuracy
    lines.append(f"questions-words accuracy {percent(a0.accuracy)} -> {percent(a1.accuracy)}"
                 + ("" if change != change else f" ({100 * change:+.2f} points)")
                 + f"; WS353 spearman {number(s0.spearman)} -> {number(s1.spearman)}")
    return lines
