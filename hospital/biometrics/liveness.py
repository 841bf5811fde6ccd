"""The liveness seam (FACE-02): what judges a burst answering a challenge.

`LivenessCheck` is the one interface the verification use case calls. The default, `LandmarkLiveness`, is the
project's own: dlib landmarks and encodings from the face pool's workers, judged by `rules.judge_liveness`
(docs/face-liveness.md says what it stops and what it does not). A certified presentation-attack-detection SDK
(ISO/IEC 30107-3 tested; in China one meeting GB/T 41819-2022 / the 人脸识别 PAD tests of a 检测机构) goes in
by implementing `LivenessCheck` and setting `ctx.liveness`: it receives the challenge's moves and the frames as
uploaded, and answers with a `LivenessVerdict` whose `worst_distance` is its identity score on the tolerance's
scale (or the project's own distance, computed as here, when the SDK only judges liveness).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from hospital.biometrics import rules
from hospital.biometrics.values import LivenessVerdict

if TYPE_CHECKING:
    from hospital.biometrics.pool import FacePool

__all__ = ["LandmarkLiveness", "LivenessCheck"]


class LivenessCheck(Protocol):
    async def judge(self, template: bytes, steps: Sequence[str], frames: list[tuple[bytes, str | None]]
                    ) -> LivenessVerdict:
        """Judge a burst against the enrolment `template` (plain bytes) and the moves asked, in order.

        Raises RuleViolation("FACE-02", reason=...) for frames it cannot use (no face, several faces, sizes
        differ), PayloadTooLarge / UnsupportedMediaType for uploads it refuses."""
        ...


class LandmarkLiveness:
    """Landmark motion, frame differences and identity on every frame, from the face pool (the default)."""

    def __init__(self, pool: FacePool) -> None:
        self.pool = pool

    async def judge(self, template: bytes, steps: Sequence[str], frames: list[tuple[bytes, str | None]]
                    ) -> LivenessVerdict:
        settings = self.pool.settings
        burst = await self.pool.observe_burst(template, frames)
        return rules.judge_liveness(steps, burst, tolerance=settings.tolerance,
                                    replay_distance=settings.replay_distance, turn_yaw=settings.turn_yaw,
                                    closer_ratio=settings.closer_ratio, min_frame_change=settings.min_frame_change)
