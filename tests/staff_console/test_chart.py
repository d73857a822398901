"""The console chart's geometry: bars scaled to the peak inside the SVG's box."""

from datetime import date, timedelta

from staff_console.chart import chart_draw
from staff_console.selectors import Day


def test_two_bars_a_day_scaled_to_the_peak_and_about_seven_labels():
    first = date(2026, 1, 1)
    days = [Day(first + timedelta(days=n), n % 3, n % 2) for n in range(30)]
    chart = chart_draw(days=days)
    assert chart.peak == 2 and len(chart.bars) == 60
    tallest = max(bar["h"] for bar in chart.bars)
    assert all(bar["y"] >= 0 and bar["y"] + bar["h"] <= chart.height for bar in chart.bars)
    assert [bar["h"] for bar in chart.bars if bar["value"] == 2] == [tallest] * 10
    assert 7 <= len(chart.ticks) <= 8


def test_a_range_without_anyone_draws_empty_bars():
    chart = chart_draw(days=[Day(date(2026, 1, 1), 0, 0)])
    assert chart.peak == 1 and [bar["h"] for bar in chart.bars] == [0, 0]
