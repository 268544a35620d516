"""The counting stages on a Dask cluster, with the very same result as one process.

Where a corpus outgrows one machine, the corpus pass and the co-occurrence counts are what
break first, and they distribute exactly: counts are integers, so any partition of the text
sums to the same totals. This package runs them on `dask.distributed` (a LocalCluster, or a
cluster by address) and hands back what `load_corpus` + `cooccurrence_matrix` give.

1. Partitions. Inputs are files every worker can read. A plain file is cut into byte
   ranges; a range owns the lines that start in it (Hadoop's rule), so a worker finds the
   line boundaries itself. A compressed file is one partition.
2. Words. Each partition is tokenized once and kept on its worker. Its word counts (words
   in first-occurrence order) are merged in partition order by a tree reduction, so the
   vocabulary's ties fall in order of first occurrence in the whole text, as one pass
   gives; then min-count and max-vocab as always.
3. Pairs. The vocabulary goes to every worker; each partition maps its ids, cuts long
   sentences (and, for svd, subsamples from the whole corpus's token positions, so every
   token meets the random draw it meets in one process), counts its pairs with the kernels
   of `cooccur.counts.count_runs` within --memory, and splits them into row ranges (symmetric
   counts mirrored, so a range holds whole rows).
4. Rows. Each row range is merged on a worker through the run store (`runtime.runs`,
   spilling past --memory) into its CSR rows; the client joins the rows into the CSR matrix that
   `cooccurrence_matrix` builds, and the caller writes it with the same writer.

Dask is imported here only, and only when asked for (`w2v ... --dask`).
"""

from .cluster import DASK_MISSING, connect, import_distributed, is_address
from .counting import ClusterRows, cooccurrence_counts, count_vocabulary
from .pairs import chunk_firsts, row_ranges, select_rows
from .partitions import Partition, input_files, plan_partitions

__all__ = ["DASK_MISSING", "ClusterRows", "Partition", "chunk_firsts", "connect",
           "cooccurrence_counts", "count_vocabulary", "import_distributed", "input_files", "is_address",
           "plan_partitions", "row_ranges", "select_rows"]
