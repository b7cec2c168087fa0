"""The ``ID_<image>_<subtype>`` column of rsna-ich's label csv as integer codes, in slices.

The full csv has 4,516,818 IDs. Splitting them all at once into image and subtype strings
(Arrow's regex extraction) held two more string columns of that length, 215 MB at the peak of
``harness data check``; slice by slice only a quarter of a million rows' strings exist at a
time, and what is kept is an int32 image code and an int8 subtype code per row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SLICE_ROWS = 1 << 18


def split_ids(
    ids: pa.Array | pa.ChunkedArray,
    pattern: str,
    subtypes: tuple[str, ...],
    slice_rows: int = SLICE_ROWS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each ID's image code (its rank among the sorted distinct images), the distinct images
    sorted (as Python strings), and each ID's subtype code (its position in ``subtypes``).

    ``pattern`` has the groups ``image`` and ``subtype``; every ID must match it (the csv's
    checks ran first). The codes are ``pd.factorize(images, sort=True)``'s. A chunked ``ids``
    (pandas' Arrow strings) is not combined whole: that copy alone was 136 MB.
    """
    subtype_codes = np.empty(len(ids), dtype=np.int8)
    dictionaries, indices = [], []
    for start in range(0, len(ids), slice_rows):
        part = ids.slice(start, slice_rows)
        if isinstance(part, pa.ChunkedArray):  # the csv reader's chunks: copied a slice at a time
            part = part.combine_chunks()
        parts = pc.extract_regex(part, pattern)
        encoded = pc.dictionary_encode(pc.struct_field(parts, "image"))
        dictionaries.append(encoded.dictionary)
        indices.append(encoded.indices.to_numpy(zero_copy_only=False))
        subtype = pc.index_in(pc.struct_field(parts, "subtype"), pa.array(subtypes))
        subtype_codes[start : start + len(parts)] = subtype.to_numpy(zero_copy_only=False)
    # The slices' own dictionaries (an image at a slice boundary is in two) made one.
    merged = pc.dictionary_encode(
        pa.concat_arrays(dictionaries) if dictionaries else pa.array([], pa.string())
    )
    order = pc.sort_indices(merged.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    of_entry = rank[merged.indices.to_numpy(zero_copy_only=False)]
    image_codes = np.empty(len(ids), dtype=np.int32)
    offset = 0
    for start, (dictionary, index) in zip(
        range(0, len(ids), slice_rows), zip(dictionaries, indices, strict=True), strict=True
    ):
        image_codes[start : start + len(index)] = of_entry[offset + index]
        offset += len(dictionary)
    images = np.asarray(merged.dictionary.take(pa.array(order)).to_pylist(), dtype=object)
    return image_codes, images, subtype_codes
