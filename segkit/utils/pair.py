"""``pair``: an int or a pair of ints as a pair (kernel sizes, strides, paddings)."""
from __future__ import annotations

__all__ = ['pair']


def pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 5) -> (3, 5)``."""
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))
