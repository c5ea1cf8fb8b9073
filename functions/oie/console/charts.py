"""Small server-rendered SVG charts: bars, a line over days, a horizontal funnel.

Each chart is accessible (role="img", a <title> and an aria-label that carry the numbers),
scales to its container (a viewBox and width 100%, so nothing overflows at 390 px) and
escapes every label with markupsafe. Empty data gives a short message instead of a chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

BAR = "#2457d6"
MUTED = "#8a93a6"
EMPTY = "No data yet."


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _empty(message: str) -> Markup:
    return Markup('<p class="chart-empty">{}</p>').format(message)


def _svg(width: int, height: int, title: str, summary: str, body: str, css: str = "chart") -> Markup:
    # width/height from the viewBox; CSS (max-width:100%) lets it shrink on a phone.
    return Markup(
        '<svg class="{css}" role="img" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>'
    ).format(css=css, w=width, h=height, label=f"{title}: {summary}", title=title, body=Markup(body))


def bars(data: Sequence[tuple[str, float]], title: str, empty: str = EMPTY) -> Markup:
    """Vertical bars, one per (label, value); the value is printed above each bar."""
    if not data or all(v <= 0 for _, v in data):
        return _empty(empty)
    width, height, top, bottom = 320, 150, 18, 24
    slot = width / len(data)
    top_value = max(v for _, v in data) or 1
    parts = []
    for i, (label, value) in enumerate(data):
        h = (height - top - bottom) * max(value, 0) / top_value
        x, y = i * slot + slot * 0.15, height - bottom - h
        cx = i * slot + slot / 2
        parts.append(
            Markup(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="2" fill="{fill}"/>'
                '<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="12" fill="#1d2433">{v}</text>'
                '<text x="{cx:.1f}" y="{ly}" text-anchor="middle" font-size="12" fill="#4a5468">{label}</text>'
            ).format(
                x=x,
                y=y,
                w=slot * 0.7,
                h=h,
                fill=BAR,
                cx=cx,
                ty=y - 4,
                v=_fmt(value),
                ly=height - 8,
                label=label,
            )
        )
    summary = ", ".join(f"{label} {_fmt(v)}" for label, v in data)
    return _svg(width, height, title, summary, "".join(parts))


def line(data: Sequence[tuple[str, float | None]], title: str, empty: str = EMPTY, top: float = 100) -> Markup:
    """A line over days (label, value or None when unknown) on a 0-`top` scale, the latest value marked."""
    known = [(i, v) for i, (_, v) in enumerate(data) if v is not None]
    if not known:
        return _empty(empty)
    width, height, left, right, pad, bottom = 320, 120, 26, 30, 8, 22
    high = max(top, *(v for _, v in known)) or 1
    step = (width - left - right) / max(len(data) - 1, 1)
    base = height - bottom

    def y_of(v: float) -> float:
        return base - (base - pad) * max(v, 0) / high

    xy = [(left + i * step, y_of(v)) for i, v in known]
    grid = Markup("").join(
        Markup(
            '<line x1="{l}" y1="{y:.1f}" x2="{r}" y2="{y:.1f}" stroke="#e3e6ec"/>'
            '<text x="{tx}" y="{ty:.1f}" font-size="11" fill="#4a5468" text-anchor="end">{v}</text>'
        ).format(l=left, r=width - right, y=y_of(v), tx=left - 4, ty=y_of(v) + 4, v=_fmt(v))
        for v in (0, high / 2, high)
    )
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = Markup("").join(
        Markup('<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>').format(x, y, BAR) for x, y in xy
    )
    (end_x, end_y), last_value = xy[-1], known[-1][1]
    body = (
        grid
        + Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>').format(path, BAR)
        + dots
        + Markup(
            '<text x="{ex:.1f}" y="{ey:.1f}" font-size="12" font-weight="600" fill="#1d2433">{now}</text>'
            '<text x="{l}" y="{y}" font-size="12" fill="#4a5468">{first}</text>'
            '<text x="{r}" y="{y}" font-size="12" fill="#4a5468" text-anchor="end">{last}</text>'
        ).format(
            ex=end_x + 5,
            ey=end_y + 4,
            now=_fmt(last_value),
            l=left,
            r=width - right,
            y=height - 6,
            first=data[0][0],
            last=data[-1][0],
        )
    )
    summary = ", ".join(f"{label} {_fmt(v) if v is not None else 'no score'}" for label, v in data)
    return _svg(width, height, title, summary, body)


def sparkline(values: Sequence[float | None], title: str, top: float = 100) -> Markup:
    """A tiny line for a table cell, on a 0-`top` scale over a faint baseline; unknown days are skipped."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Markup('<span class="chart-empty" title="{0}">no score yet</span>').format(title)
    width, height, pad = 80, 24, 3
    high = max(top, *(v for _, v in known)) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    xy = [(pad + i * step, height - pad - (height - 2 * pad) * max(v, 0) / high) for i, v in known]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    end_x, end_y = xy[-1]
    body = Markup(
        '<line x1="{p}" y1="{b}" x2="{r}" y2="{b}" stroke="#c9d0dd" stroke-width="1"/>'
        '<polyline points="{path}" fill="none" stroke="{c}" stroke-width="1.5"/>'
        '<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{c}"/>'
    ).format(p=pad, r=width - pad, b=height - pad, path=path, c=BAR, x=end_x, y=end_y)
    summary = ", ".join(_fmt(v) if v is not None else "none" for v in values)
    return Markup(
        '<svg class="spark" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-label="{label}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>'
    ).format(w=width, h=height, label=f"{title}: {summary}", title=title, body=body)


def funnel(steps: list[tuple[str, int]], title: str = "Funnel", empty: str = EMPTY) -> Markup:
    """Horizontal bars, widest first step; each row shows its count and its share of the first step."""
    if not steps or all(n <= 0 for _, n in steps):
        return _empty(empty)
    width, row, label_w = 320, 26, 110
    height = row * len(steps) + 4
    first = steps[0][1] or max(n for _, n in steps) or 1
    widest = max(max(n for _, n in steps), 1)
    parts = []
    for i, (label, n) in enumerate(steps):
        w = (width - label_w - 70) * max(n, 0) / widest
        y = i * row + 4
        share = f"{100 * n / first:.0f}%" if i and steps[0][1] else ""
        parts.append(
            Markup(
                '<text x="0" y="{ty}" font-size="12" fill="#4a5468">{label}</text>'
                '<rect x="{bx}" y="{y}" width="{w:.1f}" height="{bh}" rx="2" fill="{fill}"/>'
                '<text x="{vx:.1f}" y="{ty}" font-size="12" fill="#1d2433">{n} {share}</text>'
            ).format(
                ty=y + 14,
                label=label,
                bx=label_w,
                y=y,
                w=w,
                bh=row - 8,
                fill=BAR,
                vx=label_w + w + 4,
                n=n,
                share=share,
            )
        )
    summary = ", ".join(f"{label} {n}" for label, n in steps)
    return _svg(width, height, title, summary, "".join(parts), css="chart funnel")
