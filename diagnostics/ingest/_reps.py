"""One rep, one name: the same person written several ways across rows and files is one rep.

CRM exports spell a rep as the owner field was filled in: "Ana Lima" on most deals, "ana lima" on
a few imported ones, "Lima, Ana" in the activity export, "ana.lima@acme.com" in a homemade sheet.
Read as written, one person becomes four reps: the Rep quadrant splits her deals into small
samples, and her activities land on a "rep" with no deals while she shows no engagement at all.

Names are matched on a key: letters folded to lower case and spaces collapsed; "Last, First" and
an e-mail address's local part ("ana.lima") count only when they match a name written plainly
elsewhere, so a lone "Smith, Jr." or an unmatched address is left as it is. Every merge is named
in the data notes; nothing is merged silently.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SHOWN_MERGES = 5  # merges named one by one in the note; the rest are counted
_EMAIL = re.compile(r"^([^@\s]+)@[^@\s]+\.[^@\s]+$")


def _plain_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _other_key(name: str) -> str | None:
    """Return the key of a "Last, First" name or of an e-mail address, else None."""
    plain = _plain_key(name)
    email = _EMAIL.match(plain)
    if email:
        return " ".join(p for p in re.split(r"[._\-+]+", email.group(1)) if p) or None
    if plain.count(",") == 1:
        last, first = (p.strip() for p in plain.split(","))
        if last and first:
            return f"{first} {last}"
    return None


def _counts(column: pa.ChunkedArray | None) -> Counter[str]:
    """Return the rows per name; a column read as codes is counted by its codes, without
    spelling every row out (a 1M-deal upload would pay ~50 ms per count)."""
    counts: Counter[str] = Counter()
    if column is None:
        return counts
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            codes = pc.drop_null(chunk.indices).to_numpy(zero_copy_only=False)
            per_code = np.bincount(codes, minlength=len(chunk.dictionary))
            pairs = zip(chunk.dictionary.to_pylist(), per_code.tolist(), strict=True)
        else:
            counted = pc.value_counts(pc.drop_null(chunk))
            pairs = zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(),
                        strict=True)
        for name, n in pairs:
            if n and name is not None:
                counts[str(name)] += int(n)
    return counts


def _shown_name(variants: Iterable[str], deals: Counter[str], activities: Counter[str]) -> str:
    """Return the spelling a merged rep is shown with: the one on most deals, then activities,
    written plainly with capitals rather than in lower case."""
    return max(variants, key=lambda v: (_other_key(v) is None, deals[v], activities[v],
                                        v != v.casefold(), v))


def rep_renames(deals: Counter[str], activities: Counter[str]) -> dict[str, str]:
    """Return spelling → shown name for every rep name that is merged with another."""
    groups: dict[str, set[str]] = {}
    others: dict[str, list[str]] = {}
    for name in set(deals) | set(activities):
        other = _other_key(name)
        if other is None:
            groups.setdefault(_plain_key(name), set()).add(name)
        else:
            others.setdefault(other, []).append(name)
    for key, names in others.items():  # only when a plainly written name has that key
        if key in groups:
            groups[key].update(names)
        else:
            for name in names:
                groups.setdefault(_plain_key(name), set()).add(name)
    renames: dict[str, str] = {}
    for variants in groups.values():
        if len(variants) < 2:
            continue
        shown = _shown_name(variants, deals, activities)
        renames.update({v: shown for v in variants if v != shown})
    return renames


def _renamed(column: pa.ChunkedArray, renames: dict[str, str]) -> pa.ChunkedArray:
    coded = pa.types.is_dictionary(column.type)
    text = column.cast(pa.string()) if coded else column
    index = pc.index_in(text, value_set=pa.array(list(renames), pa.string()))
    shown = pc.take(pa.array(list(renames.values()), pa.string()), index)
    out = pc.if_else(pc.is_null(index), text, shown)
    return out.dictionary_encode() if coded else out


def merge_rep_spellings(
    opportunities: pa.Table, activities: pa.Table | None
) -> tuple[pa.Table, pa.Table | None, str | None]:
    """Return both tables with each rep under one name, and the note naming the merges."""
    has_rep = activities is not None and "rep" in activities.column_names
    deals = _counts(opportunities.column("rep")) if "rep" in opportunities.column_names \
        else Counter()
    acts = _counts(activities.column("rep")) if activities is not None and has_rep else Counter()
    renames = rep_renames(deals, acts)
    if not renames:
        return opportunities, activities, None
    if "rep" in opportunities.column_names:
        at = opportunities.schema.get_field_index("rep")
        opportunities = opportunities.set_column(
            at, "rep", _renamed(opportunities.column("rep"), renames))
    if activities is not None and has_rep:
        at = activities.schema.get_field_index("rep")
        activities = activities.set_column(at, "rep", _renamed(activities.column("rep"), renames))
    return opportunities, activities, _note(renames, deals, acts)


def _note(renames: dict[str, str], deals: Counter[str], activities: Counter[str]) -> str:
    by_shown: dict[str, list[str]] = {}
    for spelling, shown in sorted(renames.items()):
        by_shown.setdefault(shown, []).append(spelling)
    named = [f"{', '.join(f'“{s}”' for s in spellings)} → “{shown}”"
             for shown, spellings in sorted(by_shown.items())[:SHOWN_MERGES]]
    more = len(by_shown) - SHOWN_MERGES
    moved_deals = sum(deals[s] for s in renames)
    moved_acts = sum(activities[s] for s in renames)
    moved = f"{moved_deals:,} deals" + (f" and {moved_acts:,} activities" if moved_acts else "")
    return (f"Rep names written in more than one way (case, spaces, “Last, First”, e-mail) are "
            f"read as one rep each: {'; '.join(named)}"
            + (f"; and {more:,} more" if more > 0 else "")
            + f" ({moved} renamed). Fix the names in the CRM if these are different people.")


def unmatched_activities_note(opportunities: pa.Table, activities: pa.Table | None) -> str | None:
    """Return a note on activities logged by people who own no deal (None when there are none).

    They are no rep's engagement on the Rep quadrant: people who log activities and own no deal
    (an SDR team), or a name the merge above could not match.
    """
    if activities is None or "rep" not in activities.column_names \
            or "rep" not in opportunities.column_names:
        return None
    deals, acts = _counts(opportunities.column("rep")), _counts(activities.column("rep"))
    alone = sorted((n, name) for name, n in acts.items() if name not in deals)
    if not alone:
        return None
    count = sum(n for n, _ in alone)
    examples = ", ".join(f"“{name}”" for _, name in sorted(alone, reverse=True)[:3])
    if not set(acts) & set(deals):
        return (f"None of the {sum(acts.values()):,} activities names a rep who owns a deal "
                f"(e.g. {examples}): engagement cannot be measured from them. Check that both "
                "files name reps the same way.")
    return (f"{count:,} of {sum(acts.values()):,} activities are by {len(alone):,} people who "
            f"own no deal (e.g. {examples}): they count for no rep on the Rep quadrant. If they "
            "are reps written differently in the two files, make the names match.")
