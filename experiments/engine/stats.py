"""Streaming per-generation statistics whose value does not depend on chunking.

Floating-point sums depend on the order of addition, so a mean reduced over chunks
of seeds would change in its last bits with the chunk size. Here the order is fixed
by the seed index alone:

* seeds fall into aligned blocks of :data:`BLOCK` consecutive indices; a block's sum
  is a sequential ``np.add.accumulate`` over its seeds (padding contributes exact
  zeros), and block sums join the running total sequentially in seed order. Any
  chunking into multiples of ``BLOCK`` therefore performs the same additions in the
  same order: bit-identical means and standard errors.
* sums are of values shifted by a per-generation reference (the first seed's value),
  which keeps the variance ``(S2 - S1^2/n)/(n-1)`` free of catastrophic cancellation.
* quantiles come from a mergeable histogram with integer counts over bins that
  are the float64 bit patterns truncated to :data:`MANTISSA_BITS` mantissa bits
  (monotone in the value, relative bin width ``2^-MANTISSA_BITS``). Integer counts
  merge exactly in any order; a quantile is reported as its bin's midpoint, within
  a relative ``2^-(MANTISSA_BITS+1)`` of the exact order statistic.
* memory is bounded: when the histogram holds more than its budget,
  ``min(MAX_BINS, BINS_PER_GENERATION * generations)`` bins, every
  bin drops one more mantissa bit (``level`` rises by one) until it fits. The set of
  bins at a given level only grows as seeds arrive, so the final level is the
  smallest at which *all* values fit the budget, whatever the chunking or the order:
  results stay bit-identical. :attr:`StreamingStats.resolution` reports the
  relative resolution actually reached, ``2^-(MANTISSA_BITS - level + 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "BLOCK",
    "MANTISSA_BITS",
    "MAX_BINS",
    "BINS_PER_GENERATION",
    "QUANTILE_RESOLUTION",
    "StreamingStats",
    "NonFiniteError",
]

BLOCK = 64
MANTISSA_BITS = 12
MAX_BINS = 1 << 20  # histogram entries over all generations, at most (16 MiB per metric)
# ... and at most this many per generation on average: a budget that scales with the work per
# seed, so a run with few generations reaches its (small) budget within ~10^4 seeds and its
# memory stays flat from there (quantiles at 4,096 bins per generation resolve ~2^-10 or finer).
BINS_PER_GENERATION = 4096
QUANTILE_RESOLUTION = 2.0 ** -(MANTISSA_BITS + 1)
_SHIFT = 52 - MANTISSA_BITS
_SPAN_BITS = 11 + MANTISSA_BITS + 2
_KEY_SPAN = 1 << _SPAN_BITS  # > twice the largest |bin key|: a generation's slice of the combined keys


class NonFiniteError(FloatingPointError):
    """A simulated metric was NaN or infinite."""


def _bin_keys(values: np.ndarray) -> np.ndarray:
    """Monotone integer bin of each float64: sign and truncated magnitude bits."""
    mag = np.abs(values).astype(np.float64).view(np.int64) >> _SHIFT
    return np.where(values < 0, -mag - 1, mag)


def _bin_midpoints(keys: np.ndarray, level: int = 0) -> np.ndarray:
    """Midpoints of bins at a coarsening level: level-0 keys ``[k << level, (k+1) << level)``."""
    keys = np.asarray(keys, np.int64)
    first, last = keys << level, ((keys + 1) << level) - 1  # level-0 keys spanned (monotone)

    def edge(k, upper):
        neg = k < 0
        mag = np.where(neg, -k - 1, k)
        lo = (mag << _SHIFT).view(np.float64)
        hi = ((mag + 1) << _SHIFT).view(np.float64)
        # For negative keys the magnitude interval is mirrored.
        return np.where(neg, -(lo if upper else hi), hi if upper else lo)

    low, high = edge(first, False), edge(last, True)
    return low + (high - low) / 2


def _coarsen(keys: np.ndarray, counts: np.ndarray):
    """Histogram keys and counts one level coarser: every bin merges with its neighbour (``bin >> 1``).

    On the combined keys this is ``gen | (offset_bin + _KEY_SPAN / 2) >> 1``: a monotone
    map, so sorted keys stay sorted and equal neighbours are summed by a run-length
    pass, with no sort.
    """
    low = keys & (_KEY_SPAN - 1)
    keys = (keys & ~np.int64(_KEY_SPAN - 1)) | ((low + _KEY_SPAN // 2) >> 1)
    if not keys.size:
        return keys, counts
    first = np.empty(keys.size, bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return keys[starts], np.add.reduceat(counts, starts)


def _block_sums(blocks: np.ndarray):
    """Per block, the sums of its seeds' values and squares, added seed by seed in index order.

    ``blocks`` is ``(blocks, BLOCK, generations)``. The same additions, in the same order,
    as ``np.add.accumulate(blocks, axis=1)[:, -1]`` (so the same bits), one contiguous
    ``(blocks, generations)`` slice at a time: about 6x faster than the accumulate.
    """
    s1 = blocks[:, 0].copy()
    s2 = blocks[:, 0] * blocks[:, 0]
    for i in range(1, blocks.shape[1]):
        row = blocks[:, i]
        s1 += row
        s2 += row * row
    return s1, s2


class StreamingStats:
    """Mean, standard error, extremes and quantiles over seeds, per generation.

    Args:
        generations: length of each trajectory.
        quantiles: probabilities in ``[0, 1]`` to report; empty: no histogram is kept,
            which is most of the reduction's cost when there are many generations.
    """

    def __init__(self, generations: int, quantiles=(0.05, 0.5, 0.95)):
        self.generations = generations
        self.quantiles = tuple(float(q) for q in quantiles)
        self.count = 0
        self.shift = None
        self.s1 = np.zeros(generations)
        self.s2 = np.zeros(generations)
        self.minimum = np.full(generations, np.inf)
        self.maximum = np.full(generations, -np.inf)
        self._hist_keys = np.zeros(0, np.int64)
        self._hist_counts = np.zeros(0, np.int64)
        self.level = 0
        self.max_bins = min(MAX_BINS, BINS_PER_GENERATION * generations)

    @property
    def resolution(self) -> float:
        """Relative accuracy of the reported quantiles (half a bin)."""
        return 2.0 ** -(MANTISSA_BITS - self.level + 1)

    def update(self, values: np.ndarray, valid: int) -> None:
        """Add a chunk: ``values`` is ``(chunk, generations)``, its first ``valid`` rows real.

        The chunk must start at a multiple of :data:`BLOCK` seeds from the first seed
        and ``chunk`` must be a multiple of ``BLOCK``.
        """
        values = np.asarray(values, dtype=np.float64)
        chunk = values.shape[0]
        if chunk % BLOCK or self.count % BLOCK:
            raise ValueError("chunks must be whole blocks of seeds")
        real = values[:valid]
        if self.shift is None:
            self.shift = real[0].copy()
        if valid == chunk:
            shifted = values - self.shift
        else:
            shifted = np.zeros_like(values)
            shifted[:valid] = real - self.shift
        s1, s2 = _block_sums(shifted.reshape(chunk // BLOCK, BLOCK, self.generations))
        self.s1 = np.add.accumulate(np.concatenate([self.s1[None], s1]), axis=0)[-1]
        self.s2 = np.add.accumulate(np.concatenate([self.s2[None], s2]), axis=0)[-1]
        self.count += valid
        self.minimum = np.minimum(self.minimum, real.min(axis=0))
        self.maximum = np.maximum(self.maximum, real.max(axis=0))
        self.update_histogram(real)  # moments only (no quantiles): no histogram, most of the cost

    def update_blocks(
        self,
        shift: np.ndarray,
        s1: np.ndarray,
        s2: np.ndarray,
        counts: np.ndarray,
        minimum: np.ndarray,
        maximum: np.ndarray,
    ) -> None:
        """Add the partial sums of whole blocks, computed where the seeds were simulated.

        Block ``b`` holds ``counts[b]`` seeds (``BLOCK`` but for the last, a prefix of it) whose
        values shifted by ``shift[b]`` (its first seed's value) sum to ``s1[b]``, their squares
        to ``s2[b]``. Each block is re-centred on this reduction's shift (the first seed's value)
        exactly as the algebra says, ``s1 + n d`` and ``s2 + 2 d s1 + n d^2`` with
        ``d = shift[b] - shift``, and the blocks join the running sums one after another in
        seed order: the same additions whatever the chunking. ``minimum`` and ``maximum`` are
        the extremes of the same seeds.
        """
        counts = np.asarray(counts, np.int64)
        if self.count % BLOCK:
            raise ValueError("chunks must be whole blocks of seeds")
        keep = counts > 0
        if not keep.any():
            return
        shift, s1, s2 = (np.asarray(a, np.float64)[keep] for a in (shift, s1, s2))
        n = counts[keep].astype(np.float64)[:, None]
        if self.shift is None:
            self.shift = shift[0].copy()
        d = shift - self.shift
        c1 = s1 + n * d
        c2 = s2 + 2.0 * d * s1 + n * d * d
        self.s1 = np.add.accumulate(np.concatenate([self.s1[None], c1]), axis=0)[-1]
        self.s2 = np.add.accumulate(np.concatenate([self.s2[None], c2]), axis=0)[-1]
        self.count += int(counts.sum())
        self.minimum = np.minimum(self.minimum, minimum)
        self.maximum = np.maximum(self.maximum, maximum)

    def update_histogram(self, real: np.ndarray) -> None:
        """Add the quantile histogram's counts of ``real`` (the chunk's counted seeds only)."""
        if not self.quantiles:
            return
        keys, counts = self._chunk_histogram(np.asarray(real, np.float64))
        # A chunk that alone overflows the budget overflows the merged histogram too: coarsen
        # it (and the histogram) first, so the merge and the coarsening passes over the
        # histogram run at the level the chunk needs, not once per level on the way there.
        while keys.size > self.max_bins:
            keys, counts = _coarsen(keys, counts)
            self._raise_level()
        self._merge(keys, counts)
        while self._hist_keys.size > self.max_bins:
            self._raise_level()

    def _raise_level(self) -> None:
        """Coarsen the histogram by one level."""
        self._hist_keys, self._hist_counts = _coarsen(self._hist_keys, self._hist_counts)
        self.level += 1

    def _chunk_histogram(self, real: np.ndarray):
        """Sorted unique histogram keys of a chunk and their counts.

        Bin keys fit in 32 bits (sign, 11 exponent and 12 mantissa bits), so each
        generation's keys are sorted as int32 rows and run-length encoded: cheaper than
        sorting the chunk's combined 64-bit keys, with the same result.
        """
        bins = np.sort((_bin_keys(real) >> self.level).T.astype(np.int32), axis=1)  # (generations, seeds)
        first = np.ones(bins.shape, bool)
        first[:, 1:] = bins[:, 1:] != bins[:, :-1]
        starts = np.flatnonzero(first)  # row-major: sorted by generation, then bin
        counts = np.diff(np.append(starts, bins.size))
        return self._combine(bins.ravel()[starts].astype(np.int64), starts // bins.shape[1]), counts

    @staticmethod
    def _combine(bins: np.ndarray, gen: np.ndarray) -> np.ndarray:
        """Histogram keys ``gen * _KEY_SPAN + bin + _KEY_SPAN / 2``, ordered by (generation, bin)."""
        return (np.asarray(gen, np.int64) << _SPAN_BITS) | (bins + _KEY_SPAN // 2)

    @staticmethod
    def _split(keys: np.ndarray):
        return keys >> _SPAN_BITS, (keys & (_KEY_SPAN - 1)) - _KEY_SPAN // 2

    def _merge(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Add ``counts`` at ``keys`` (sorted and unique) to the sorted histogram."""
        counts = np.asarray(counts, np.int64)
        # Sorted unique keys into a sorted histogram: a binary search and one insertion,
        # linear in the histogram's size (no re-sort of the whole histogram).
        old_keys, old_counts = self._hist_keys, self._hist_counts.copy()
        pos = np.searchsorted(old_keys, keys)
        hit = pos < old_keys.size
        hit[hit] = old_keys[pos[hit]] == keys[hit]
        old_counts[pos[hit]] += counts[hit]
        fresh = ~hit
        self._hist_keys = np.insert(old_keys, pos[fresh], keys[fresh])
        self._hist_counts = np.insert(old_counts, pos[fresh], counts[fresh])

    @property
    def mean(self) -> np.ndarray:
        return self.shift + self.s1 / self.count

    @property
    def std(self) -> np.ndarray:
        if self.count < 2:
            return np.full(self.generations, np.nan)
        var = (self.s2 - self.s1**2 / self.count) / (self.count - 1)
        return np.sqrt(np.maximum(var, 0.0))

    @property
    def sem(self) -> np.ndarray:
        return self.std / np.sqrt(self.count)

    def quantile(self, q: float) -> np.ndarray:
        """The ``ceil(q n)``-th smallest value (inverted CDF), to the bin resolution."""
        return self.quantile_table((q,))[0]

    def quantile_table(self, qs: Sequence[float]) -> np.ndarray:
        """:meth:`quantile` for each of ``qs``: an array ``(len(qs), generations)``, one pass."""
        if self.count and not self._hist_keys.size:
            raise ValueError("no quantiles: this reduction kept no histogram (it was built with quantiles=())")
        gen, bins = self._split(self._hist_keys)
        ranks = np.maximum(np.ceil(np.asarray(qs, np.float64) * self.count).astype(np.int64), 1)
        # Every generation at once: the histogram is sorted by (generation, bin), so the
        # first bin of generation g whose cumulative count within g reaches `rank` is the
        # first global index whose cumulative count reaches (count before g) + rank.
        cum = np.cumsum(self._hist_counts)
        starts = np.searchsorted(gen, np.arange(self.generations))
        before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0)
        found = np.searchsorted(cum, before[None, :] + ranks[:, None])
        return _bin_midpoints(bins[found], self.level)

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to resume the reduction (for extending a cached result)."""
        return {
            "count": np.asarray(self.count),
            "shift": self.shift,
            "s1": self.s1,
            "s2": self.s2,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "hist_keys": self._hist_keys,
            "hist_counts": self._hist_counts,
            "level": np.asarray(self.level),
        }

    @classmethod
    def from_state(cls, state: dict, quantiles: Sequence[float]) -> StreamingStats:
        self = cls(len(state["s1"]), quantiles)
        self.count = int(state["count"])
        self.shift = np.asarray(state["shift"], np.float64)
        for name in ("s1", "s2", "minimum", "maximum"):
            setattr(self, name, np.asarray(state[name], np.float64))
        self._hist_keys = np.asarray(state["hist_keys"], np.int64)
        self._hist_counts = np.asarray(state["hist_counts"], np.int64)
        self.level = int(state.get("level", 0))
        if self.quantiles and self.count and not self._hist_keys.size:
            raise ValueError(
                "cannot report quantiles: the reduction being extended kept no histogram "
                "(it was built with quantiles=())"
            )
        return self
