"""pandas frames whose integer columns stay exact: int64 where every total fits, Python ints otherwise."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

INT64_MAX = 2**63 - 1


def exact_frame(records: Iterable[dict], columns: Optional[Sequence[str]] = None):
    """DataFrame.from_records, then every column of Python ints either int64, when the sum of its absolute values fits
    (so any sum or groupby-sum of it fits too), or object dtype holding the Python ints themselves: numpy would wrap
    a larger count silently, or turn it into an inexact uint64 or float."""
    import pandas as pd

    records = list(records)
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in frame.columns:
        values = [r.get(column) for r in records]
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            continue
        if sum(abs(v) for v in values) <= INT64_MAX:
            frame[column] = frame[column].astype("int64")
        else:
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
    return frame
