"""CT display windows (width/level in HU) and their application."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """A display window: HU values in [level - width/2, level + width/2] span black to white."""

    width: float
    level: float

    @property
    def low(self) -> float:
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        return self.level + self.width / 2


#: Standard presets (width, level) in HU.
PRESETS: dict[str, Window] = {
    "Lung": Window(1500, -600),
    "Mediastinum": Window(350, 50),
    "Bone": Window(2500, 480),
    "Brain": Window(80, 40),
}


def apply_window(hu: np.ndarray, window: Window, *, invert: bool = False) -> np.ndarray:
    """Map HU to display grey levels.

    Args:
        hu: array of any shape, in HU. Not modified.
        window: the display window; a width below 1 HU is treated as 1 HU.
        invert: for MONOCHROME1 images, high values display dark.

    Returns:
        uint8 array of the same shape, 0 (black) to 255 (white).
    """
    width = max(float(window.width), 1.0)  # a zero width would divide by zero
    scaled = (np.asarray(hu, dtype=np.float32) - (window.level - width / 2)) / width
    grey = np.clip(np.nan_to_num(scaled, nan=0.0), 0.0, 1.0)
    if invert:
        grey = 1.0 - grey
    return np.round(grey * 255).astype(np.uint8)
