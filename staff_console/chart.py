"""The console's chart: daily new members and activations as SVG positions.

Presentation only: the counts come from selectors.day_counts_list; this works out
where each bar and label goes in the template's viewBox.
"""

from dataclasses import dataclass, field
from typing import Any

from staff_console.selectors import Day

LEFT = 36  # room for the axis labels
BOTTOM = 24


@dataclass(frozen=True)
class Chart:
    """The days, and what the SVG template needs to draw them."""

    days: list[Day]
    peak: int
    width: int = 640
    height: int = 200
    bars: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)


def chart_draw(*, days: list[Day]) -> Chart:
    """Two bars a day (new members, activations) scaled to the peak; a date label
    on about seven of the days."""
    peak = max([1, *(max(d.new_members, d.activations) for d in days)])
    chart = Chart(days=days, peak=peak)
    plot_w = chart.width - LEFT - 8
    plot_h = chart.height - BOTTOM - 8
    slot = plot_w / max(1, len(days))
    bar = max(1.0, slot * 0.4)
    for n, d in enumerate(days):
        x = LEFT + n * slot + slot * 0.1
        for offset, value, kind in ((0, d.new_members, "new"), (bar, d.activations, "act")):
            h = plot_h * value / peak
            chart.bars.append(
                {
                    "x": round(x + offset, 1),
                    "y": round(8 + plot_h - h, 1),
                    "w": round(bar, 1),
                    "h": round(h, 1),
                    "kind": kind,
                    "value": value,
                    "day": d.day,
                }
            )
    label_every = max(1, len(days) // 7)
    for n, d in enumerate(days):
        if n % label_every == 0:
            chart.ticks.append({"x": round(LEFT + n * slot + slot / 2, 1), "day": d.day})
    return chart
