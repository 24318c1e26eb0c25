"""True download figures: which bytes of a package each county has really been sent.

Every transfer is a ``Download`` row: the byte span ``[range_start, range_start +
bytes_sent)`` the server handed to the connection. A county has *completed* a package only
when the union of its spans covers the whole file, whatever the order and however many
requests it took (two halves; a cut transfer resumed with ``curl -C -``). ``bytes=-1`` or an
interrupted transfer never counts as complete. The row whose span closes the last gap is
marked ``completed``; the coverage figures read that flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.models import User
from mam.models.release import Download, ReleasePackage


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge half-open byte spans ``(start, stop)`` into sorted, disjoint ones."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def covered_bytes(spans: Iterable[tuple[int, int]]) -> int:
    """Return how many distinct bytes the spans cover."""
    return sum(stop - start for start, stop in merge_spans(spans))


def covers(spans: Iterable[tuple[int, int]], size: int) -> bool:
    """Say whether the spans cover every byte of a file of ``size`` bytes."""
    merged = merge_spans(spans)
    if size <= 0:
        return False
    return bool(merged) and merged[0][0] <= 0 and merged[0][1] >= size


class DownloadLog:
    """Record transfers of packages and tell whether a county has a whole package."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def spans(self, package_id: int, county_id: int | None) -> list[tuple[int, int]]:
        """Return the merged spans of ``package_id`` sent to ``county_id``."""
        rows = self.session.execute(
            select(Download.range_start, Download.bytes_sent).where(
                Download.package_id == package_id, Download.county_id == county_id
            )
        )
        return merge_spans((start, start + sent) for start, sent in rows)

    def record(self, package: ReleasePackage, user: User, *, start: int, sent: int) -> Download:
        """Log a transfer of ``sent`` bytes from ``start``; mark it if it completes the copy."""
        # Serialise recorders of one package: PostgreSQL locks the package row; SQLite's
        # BEGIN IMMEDIATE already holds the write lock. Without it two halves finishing
        # together could each miss the other and neither would complete the copy.
        self.session.execute(
            select(ReleasePackage.id).where(ReleasePackage.id == package.id).with_for_update()
        )
        already = self.session.scalar(
            select(Download.id).where(
                Download.package_id == package.id,
                Download.county_id == user.county_id,
                Download.completed,
            )
        )
        row = Download(
            package_id=package.id,
            county_id=user.county_id,
            user_id=user.id,
            range_start=start,
            bytes_sent=sent,
            completed=False,
        )
        self.session.add(row)
        self.session.flush()
        if already is None and sent > 0:
            row.completed = covers(self.spans(package.id, user.county_id), package.size or 0)
        self.session.flush()
        return row

    def received_percent(self, sizes: dict[int, int]) -> dict[int | None, int]:
        """Return per county the best share (0-99, rounded down) of any package's bytes sent.

        ``sizes`` maps package ids to their sizes; 100 is left to the completed flag.
        """
        spans: dict[tuple[int | None, int], list[tuple[int, int]]] = {}
        rows = self.session.execute(
            select(
                Download.county_id, Download.package_id, Download.range_start, Download.bytes_sent
            ).where(Download.package_id.in_(list(sizes)), Download.bytes_sent > 0)
        )
        for county_id, package_id, start, sent in rows:
            spans.setdefault((county_id, package_id), []).append((start, start + sent))
        best: dict[int | None, int] = {}
        for (county_id, package_id), pieces in spans.items():
            size = sizes.get(package_id) or 0
            if size > 0:
                share = min(99, covered_bytes(pieces) * 100 // size)
                best[county_id] = max(best.get(county_id, 0), share)
        return best
