"""Recording what a processing run made: rendition rows, thumbnails, QC and loudness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.models import Rendition, Version, utcnow
from mam.models.processing import LoudnessMeasurement, QCReport, QCVerdict, ThumbnailSet
from mam.services.processing_types import RenditionOutput, ThumbnailOutput


class RecordsMixin:
    """The rows of a run's outputs (part of ``ProcessingService``)."""

    session: Session

    def _record_renditions(
        self, version: Version, outputs: Sequence[RenditionOutput], sizes: dict[str, int]
    ) -> None:
        made = {o.profile for o in outputs}
        for stale in [r for r in version.renditions if r.profile not in made]:
            if self._replaces(stale.profile):
                version.renditions.remove(stale)
        by_profile = {r.profile: r for r in version.renditions}
        for out in outputs:
            info = out.media_info
            video = info.primary_video if info else None
            rendition = by_profile.get(out.profile) or Rendition(profile=out.profile)
            rendition.storage_key = out.key
            rendition.mime_type = out.mime_type
            rendition.size = sum(sizes.get(f.key, 0) for f in out.files)
            rendition.width = out.details.get("width") or (video.display_width if video else None)
            rendition.height = out.details.get("height") or (
                video.display_height if video else None
            )
            rendition.duration = out.duration or (info.duration if info else None) or None
            rendition.bit_rate = out.details.get("bit_rate") or (info.bit_rate if info else None)
            rendition.media_info = {**(info.to_dict() if info else {}), **out.details}
            rendition.created_at = utcnow()
            if rendition.id is None:
                version.renditions.append(rendition)

    def _replaces(self, profile: str) -> bool:
        """Return True if a rendition of ``profile`` this run did not make is stale."""
        return True

    def _record_thumbnails(self, version: Version, thumbs: ThumbnailOutput) -> None:
        row = self.session.scalar(select(ThumbnailSet).where(ThumbnailSet.version_id == version.id))
        if row is None:
            row = ThumbnailSet(version_id=version.id)
            self.session.add(row)
        row.thumbnails = [{"key": key, "time": at} for key, at in thumbs.thumbnails]
        row.sprite_keys = list(thumbs.sprite_keys)
        row.vtt_key = thumbs.vtt_key
        row.layout = dict(thumbs.layout)
        row.created_at = utcnow()

    def _record_analysis(
        self,
        version: Version,
        job_id: int,
        report: dict[str, Any] | None,
        loudness: dict[str, Any] | None,
    ) -> None:
        """Store (replace) the QC report and the loudness figures of a version."""
        if report is not None:
            row = self.session.scalar(select(QCReport).where(QCReport.version_id == version.id))
            if row is None:
                row = QCReport(version_id=version.id)
                self.session.add(row)
            row.job_id = job_id
            row.verdict = QCVerdict(report.get("verdict", "pass"))
            row.errors = int(report.get("errors", 0))
            row.warnings = int(report.get("warnings", 0))
            row.report = report
            row.created_at = utcnow()
        if loudness is not None:
            lm = self.session.scalar(
                select(LoudnessMeasurement).where(LoudnessMeasurement.version_id == version.id)
            )
            if lm is None:
                lm = LoudnessMeasurement(version_id=version.id)
                self.session.add(lm)
            source = loudness.get("source") or {}
            lm.integrated = source.get("integrated")
            lm.true_peak = source.get("true_peak")
            lm.lra = source.get("lra")
            lm.threshold = source.get("threshold")
            lm.results = list(loudness.get("results", []))
            lm.created_at = utcnow()
