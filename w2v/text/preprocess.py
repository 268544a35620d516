"""Text normalisers applied to raw text before it is split into tokens (`--preprocess`).

Text in the wild carries capitals, punctuation and digits that a prepared corpus never has,
so `guitar.` would be an unknown word. `letters` is the preparation of the shared corpus
(text8-like): lowercase, accents folded to ASCII (`é` -> `e`, `ß` -> `ss`), digits spelled
out one by one (`1993` -> `one nine nine three`), every other character a space. Pure
Python and numpy-free, so the reading commands can use it.
"""

import re
import unicodedata

from ..errors import OptionError

PREPROCESSORS = ("none", "lower", "letters")

_DIGITS = "zero one two three four five six seven eight nine".split()
# After folding: a digit becomes its name between spaces; a-z stays; everything else a space.
_ASCII_TABLE = {c: " " for c in range(128)}
_ASCII_TABLE.update({ord(c): c for c in "abcdefghijklmnopqrstuvwxyz"})
_ASCII_TABLE.update({ord(str(d)): f" {name} " for d, name in enumerate(_DIGITS)})
_ASCII_TABLE[ord("\n")] = "\n"  # keep line structure when a whole block is normalised
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SPACES = re.compile(r"[^\S\n]+")


def check_preprocess(name):
    """The normaliser name, lowercased; OptionError for an unknown one."""
    value = str(name or "none").lower()
    if value not in PREPROCESSORS:
        raise OptionError(f"unknown preprocess {name!r}; expected one of "
                          f"{', '.join(PREPROCESSORS)}")
    return value


def _fold(match):
    """ASCII letters (and digits) of one non-ASCII character, else a space."""
    decomposed = unicodedata.normalize("NFKD", match.group(0).casefold())
    kept = "".join(c for c in decomposed if c.isascii())
    return kept if kept.strip() else " "


def letters(text):
    """The shared corpus's preparation of `text` (line ends are kept)."""
    text = text.lower()
    if _NON_ASCII.search(text):
        text = _NON_ASCII.sub(_fold, text)
    text = text.translate(_ASCII_TABLE)
    return _SPACES.sub(" ", text)


def normaliser(name):
    """A str -> str function for `--preprocess NAME` (identity for "none")."""
    name = check_preprocess(name)
    if name == "lower":
        return str.lower
    if name == "letters":
        return letters
    return None


EOS = "</s>"  # fastText's end-of-line token (`w2v.subwords` gives it no n-grams)


def end_lines(text):
    """Each newline of `text` preceded by fastText's `</s>` token, as fastText reads text:
    every line ends with it, an empty line is `</s>` alone, a last line without a newline
    gets none."""
    return text.replace("\n", " " + EOS + "\n")


def text_normaliser(lowercase=False, preprocess="none", eos=False):
    """The str -> str function the corpus reader applies to each block (None: none needed):
    `--lowercase`, then `--preprocess`, then `--eos` (`end_lines`)."""
    chosen = normaliser(preprocess)
    if lowercase and chosen is None:  # letters and lower lowercase anyway
        chosen = str.lower
    if not eos:
        return chosen
    if chosen is None:
        return end_lines
    return lambda text: end_lines(chosen(text))
