"""The sentence-transformers peer for `w2v tune`: StaticEmbedding + MultipleNegativesRankingLoss.

Run with a Python that has sentence-transformers and a CPU build of PyTorch (kept out of w2v's
extras: it is heavy). It reads text already tokenised by the caller (tokens joined by spaces), so
both tools see the same tokens:

    python peer_static_embedding.py --vectors v.txt --train pairs.tsv --dev dev.tsv \
        --batch-size 128 --epochs 1 --lr 1e-3 --threads 2

`v.txt` is the word2vec text format (the tuned model's starting vectors), `pairs.tsv` holds
`anchor<TAB>positive` lines and `dev.tsv` `score<TAB>text1<TAB>text2` lines. The training loop
is the one the sentence-transformers trainer runs, without the trainer's bookkeeping (so the
peer's time per epoch is its best case): tokenise a batch, MultipleNegativesRankingLoss (InfoNCE
over in-batch negatives, scale 20), AdamW. Prints one JSON line: seconds and pairs/s of each
epoch, dev Spearman x 100 after each epoch.
"""

import argparse
import json
import time

import numpy as np


def read_vectors(path):
    with open(path, encoding="utf-8") as f:
        n, dim = (int(x) for x in f.readline().split())
        words = []
        matrix = np.empty((n, dim), dtype=np.float32)
        for i in range(n):
            parts = f.readline().rstrip("\n").split(" ")
            words.append(parts[0])
            matrix[i] = np.asarray(parts[1:1 + dim], dtype=np.float32)
    return words, matrix


def read_tsv(path, columns):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= columns:
                rows.append(parts[:columns])
    return rows


def word_level_tokenizer(words):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit

    vocab = {"[UNK]": 0, "[PAD]": 1}
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = WhitespaceSplit()
    tok.enable_padding(pad_id=1, pad_token="[PAD]")
    return tok, vocab


def spearman(a, b):
    from scipy.stats import spearmanr
    return 100.0 * float(spearmanr(a, b).correlation)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--dev", required=True)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from sentence_transformers import SentenceTransformer
    try:
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    except ImportError:  # older releases
        from sentence_transformers.losses import MultipleNegativesRankingLoss
        from sentence_transformers.models import StaticEmbedding

    words, matrix = read_vectors(args.vectors)
    tok, vocab = word_level_tokenizer(words)
    weights = np.zeros((len(vocab), matrix.shape[1]), dtype=np.float32)
    weights[2:2 + len(words)] = matrix
    model = SentenceTransformer(modules=[StaticEmbedding(tok, embedding_weights=weights)],
                                device="cpu")
    loss = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)

    pairs = read_tsv(args.train, 2)
    dev = read_tsv(args.dev, 3)
    gold = np.array([float(r[0]) for r in dev])
    rng = np.random.default_rng(args.seed)

    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def features(texts):
        return tokenize(texts)

    def dev_spearman():
        model.eval()
        with torch.no_grad():
            a = model.encode([r[1] for r in dev], batch_size=1024, convert_to_numpy=True,
                             normalize_embeddings=True)
            b = model.encode([r[2] for r in dev], batch_size=1024, convert_to_numpy=True,
                             normalize_embeddings=True)
        model.train()
        return spearman((a * b).sum(axis=1), gold)

    report = {"tool": "sentence-transformers StaticEmbedding + MultipleNegativesRankingLoss",
              "pairs": len(pairs), "batch_size": args.batch_size, "threads": args.threads,
              "dev_spearman_start": dev_spearman(), "epochs": []}
    model.train()
    for _ in range(args.epochs):
        order = rng.permutation(len(pairs))
        start = time.perf_counter()
        for i in range(0, len(order) - args.batch_size + 1, args.batch_size):
            batch = [pairs[j] for j in order[i:i + args.batch_size]]
            feats = [features([p[0] for p in batch]), features([p[1] for p in batch])]
            value = loss(feats, torch.empty(0))
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        report["epochs"].append({"seconds": seconds, "pairs_per_s": len(pairs) / seconds,
                                 "dev_spearman": dev_spearman()})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
