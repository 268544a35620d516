"""The defaults of `w2v tune`, written once: the library's `tune` and the command read them.

Chosen on STS-B train and dev only (docs/tune.md): CoSENT + InfoNCE for graded pairs, the
rows of the words the pairs use trained (`train` None resolves to "rows", or "map+rows"
with `asymmetric`) by SGD with bounded steps, the words' minimum appended at weight 0.7,
InfoNCE at temperature 0.1, Adam for the weights and the map. Trained on crops alone:
InfoNCE at temperature 0.05 over batches of 512, the rows by Adam, no minimum, the
components refitted on the texts embedded (`refit` "auto"), and whole epochs until
`crops_pairs` pairs are seen (at most `epochs`): one pass over the crops of the corpus the
model was trained on ranked STS-B dev's paraphrases better than three over a fifth of it.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class TuneOptions:
    loss: str = "auto"
    temperature: float = 0.1
    margin: float = 0.2
    hard_negatives: int = 0
    false_negative_weight: float = 0.0
    guide: str = "untuned"
    min_score: float = 4.0
    epochs: int = 20
    batch_size: int = 128
    lr: float = 0.003
    row_lr: float = 1.0  # plain SGD on the rows, each word's step at most 0.02 per batch
    row_lr_adam: float = 0.001  # the rows' learning rate with Adam
    row_optimizer: str = "sgd"
    min_weight: float = 0.7  # the weight of the words' minimum beside the weighted mean
    row_pull: float = 0.0
    seed: int = 1
    refit: str = "auto"
    crops_temperature: float = 0.05  # temperature and batch size on crops alone
    crops_batch_size: int = 512
    crops_min_weight: float = 0.0
    crops_row_optimizer: str = "adam"
    crops_pairs: int = 300_000  # on crops alone: whole epochs until this many pairs


TUNE_DEFAULTS = TuneOptions()
