"""Matplotlib figures of the report, returned as base64 SVG data URIs (text drawn as paths, so the PDF and
the HTML need no font). Japanese labels need a CJK font: :func:`cjk_font` finds one if installed (e.g.
Debian ``fonts-noto-cjk``); without one, figures fall back to English labels."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from functools import cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

log = logging.getLogger(__name__)

CJK_FAMILIES = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "VL Gothic",
                "Source Han Sans JP")
_CJK_FILE_HINTS = ("notosanscjk", "notosansjp", "ipaexg", "ipag", "takaogothic", "vl-gothic", "sourcehansans")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


@cache
def cjk_font() -> str | None:
    """Family name of an installed Japanese-capable font, registering its file with matplotlib; or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    for path in font_manager.findSystemFonts():
        low = path.lower().replace("_", "").replace(" ", "")
        if any(h in low for h in _CJK_FILE_HINTS) and "bold" not in low and "serif" not in low:
            try:
                font_manager.fontManager.addfont(path)
            except Exception:  # an unreadable font file: try the next one
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    log.info("no CJK font found; figures use English labels")
    return None


def figure_lang(lang: str) -> str:
    """The language figures can be labelled in: ``ja`` only when a CJK font exists."""
    return "ja" if lang == "ja" and cjk_font() else "en"


def _rc(lang: str) -> dict:
    fams = [cjk_font()] if (lang == "ja" and cjk_font()) else []
    return {"font.family": [*fams, "DejaVu Sans"], "svg.fonttype": "path", "font.size": 9,
            "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8, "axes.spines.top": False,
            "axes.spines.right": False, "svg.hashsalt": "wristbme", "path.simplify": True}


def _svg(draw: Callable[[], plt.Figure], lang: str) -> str:
    with plt.rc_context(_rc(lang)):
        fig = draw()
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None}, dpi=200)
        plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def flow_diagram(flow: dict, tr: Callable[..., str], lang: str) -> str:
    """STARD flow: received → exclusions (by reason, in side boxes) → analysed."""
    total = flow["total"]
    by_site = flow["by_site"]
    reasons = flow["reasons"]
    side_width = 22 if lang == "ja" else 40   # characters per line (CJK glyphs are twice as wide)
    main_width = 26 if lang == "ja" else 48

    def reason_lines(stage: str) -> list[str]:
        return [_wrap(f"· {tr('reason', code=r)}: {n}", side_width) for r, n in reasons.get(stage, {}).items() if n]

    received = total.get("received", 0)
    eligible = received - total.get("ineligible", 0)
    checked = eligible - total.get("opted_out", 0) - total.get("withdrawn", 0)
    main = [
        tr("flow_received", n=received) + "\n" + _wrap(", ".join(f"{s} {v['received']}" for s, v in by_site.items()), main_width),
        tr("flow_after_eligibility", n=eligible),
        tr("flow_after_consent", n=checked),
        tr("flow_analysed", n=total.get("analysed", 0), wrists=flow["wrists_analysed"]) + "\n"
        + _wrap(", ".join(f"{s} {v['analysed']}" for s, v in by_site.items()), main_width),
    ]
    side = [
        "\n".join([tr("flow_ineligible", n=total.get("ineligible", 0)), *reason_lines("ineligible")]),
        "\n".join([tr("flow_opted_out", n=total.get("opted_out", 0)), tr("flow_withdrawn", n=total.get("withdrawn", 0))]),
        "\n".join([tr("flow_qc_failed", n=total.get("qc_failed", 0)), *reason_lines("qc_failed")]),
    ]
    line_h = 0.30

    def height(text: str) -> float:
        return line_h * (text.count("\n") + 1) + 0.35

    def draw():
        gaps = [max(height(sd) + 0.5, 1.3) for sd in side]
        total_h = sum(height(m) for m in main) + sum(gaps) + 0.4
        fig, ax = plt.subplots(figsize=(7.2, 0.62 * total_h))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, total_h)
        ax.axis("off")
        y = total_h - 0.2
        centres = []
        for i, text in enumerate(main):
            h = height(text)
            centres.append((y - h / 2, h))
            _box(ax, 2.7, y - h / 2, text, width=5.0, height=h)
            y -= h
            if i < len(side):
                y -= gaps[i]
        for i in range(3):
            (y0, h0), (y1, h1) = centres[i], centres[i + 1]
            top, bottom = y0 - h0 / 2, y1 + h1 / 2
            ax.annotate("", xy=(2.7, bottom + 0.02), xytext=(2.7, top - 0.02),
                        arrowprops={"arrowstyle": "-|>", "color": "#444", "lw": 0.9})
            mid = (top + bottom) / 2
            ax.annotate("", xy=(5.45, mid), xytext=(2.7, mid),
                        arrowprops={"arrowstyle": "-|>", "color": "#444", "lw": 0.9})
            _box(ax, 7.65, mid, side[i], width=4.3, height=height(side[i]), face="#fff7f0", align="left")
        return fig

    return _svg(draw, lang)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) if text else ""


def _box(ax, x: float, y: float, text: str, *, width: float, height: float, face: str = "#eef4fb",
         align: str = "center") -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor=face, edgecolor="#335", linewidth=0.8))
    tx = x if align == "center" else x - width / 2 + 0.15
    ax.text(tx, y, text, ha=align, va="center", fontsize=7.6, linespacing=1.45)


def forest_plot(rows: list[dict], pooled: dict | None, tr: Callable[..., str], lang: str, *, xlabel: str,
                ref_line: float | None = 0.5, xlim: tuple[float, float] | None = None) -> str:
    """Rows ``{"label", "value", "lo", "hi", "n"}`` and an optional pooled ``{"value", "lo", "hi", "pi"}``."""
    def draw():
        n = len(rows) + (2 if pooled else 0)
        fig, ax = plt.subplots(figsize=(6.4, 0.32 * n + 1.1))
        labels = []
        for i, r in enumerate(rows):
            y = n - 1 - i
            ax.plot([r["lo"], r["hi"]], [y, y], color="#1f4e79", lw=1.4)
            ax.plot([r["value"]], [y], "s", color="#1f4e79", ms=5)
            labels.append((y, r["label"]))
        if pooled:
            y = 0
            v, lo, hi = pooled["value"], pooled["lo"], pooled["hi"]
            ax.fill([lo, v, hi, v], [y, y + 0.3, y, y - 0.3], color="#c0392b")
            if pooled.get("pi") and all(v is not None and np.isfinite(v) for v in pooled["pi"]):
                ax.plot(pooled["pi"], [y, y], color="#c0392b", lw=1, ls="--")
            labels.append((y, pooled["label"]))
        if ref_line is not None:
            ax.axvline(ref_line, color="#999", lw=0.8, ls=":")
        ax.set_yticks([p for p, _ in labels], [t for _, t in labels])
        ax.set_xlabel(xlabel)
        if xlim:
            ax.set_xlim(*xlim)
        ax.set_ylim(-0.8, n - 0.4)
        ax.grid(axis="x", color="#eee")
        return fig

    return _svg(draw, lang)


def roc_plot(pooled: pd.DataFrame, per_site: dict[str, pd.DataFrame], points: list[dict], tr: Callable[..., str],
             lang: str) -> str:
    def draw():
        fig, ax = plt.subplots(figsize=(4.8, 4.4))
        for i, (site, c) in enumerate(per_site.items()):
            ax.plot(c["fpr"], c["tpr"], lw=0.9, color=PALETTE[(i + 2) % len(PALETTE)], alpha=0.8, label=site)
        ax.plot(pooled["fpr"], pooled["tpr"], lw=2.2, color="#111", label=tr("pooled"))
        for p, marker in zip(points, ("o", "^"), strict=False):
            ax.plot([1 - p["spec"]], [p["sens"]], marker, ms=7, mfc="white", mec="#c0392b", mew=1.6, label=p["label"])
        ax.plot([0, 1], [0, 1], color="#aaa", lw=0.8, ls=":")
        ax.set_xlabel(tr("fpr"))
        ax.set_ylabel(tr("tpr"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_aspect("equal")
        ax.legend(loc="lower right", frameon=False)
        return fig

    return _svg(draw, lang)


def bland_altman_plot(plot: pd.DataFrame, ba: dict, tr: Callable[..., str], lang: str) -> str:
    def draw():
        fig, ax = plt.subplots(figsize=(5.6, 3.4))
        ax.scatter(plot["mean"], plot["diff"], s=7, alpha=0.45, color="#1f4e79", linewidths=0, rasterized=True)
        for key, style, label in (("bias", "-", tr("bias")), ("loa_lower", "--", tr("loa")),
                                  ("loa_upper", "--", None)):
            e = ba[key]
            ax.axhline(e["value"], color="#c0392b", ls=style, lw=1.1, label=label)
            ax.axhspan(e["ci_lower"], e["ci_upper"], color="#c0392b", alpha=0.08)
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_xlabel(tr("ba_x"))
        ax.set_ylabel(tr("ba_y"))
        ax.set_xlim(0, 100)
        ax.legend(loc="upper right", frameon=False)
        return fig

    return _svg(draw, lang)


def grade_plot(frame: pd.DataFrame, tr: Callable[..., str], lang: str) -> str:
    def draw():
        fig, ax = plt.subplots(figsize=(5.0, 3.3))
        groups = [g for g in range(4) if (frame["max_grade"] == g).any()]
        data = [frame.loc[frame["max_grade"] == g, "score"].to_numpy() for g in groups]
        ax.boxplot(data, positions=groups, widths=0.55, showfliers=False,
                   medianprops={"color": "#c0392b", "lw": 1.5})
        rng = np.random.default_rng(0)
        for g, d in zip(groups, data, strict=True):
            ax.scatter(g + rng.uniform(-0.18, 0.18, len(d)), d, s=3, alpha=0.25, color="#1f4e79", linewidths=0,
                       rasterized=True)
        ax.set_xticks(groups, [f"{g}\n(n={len(d)})" for g, d in zip(groups, data, strict=True)])
        ax.set_xlabel(tr("max_grade"))
        ax.set_ylabel(tr("score"))
        ax.set_ylim(0, 100)
        return fig

    return _svg(draw, lang)


def calibration_plot(table: pd.DataFrame, tr: Callable[..., str], lang: str) -> str:
    def draw():
        fig, ax = plt.subplots(figsize=(4.4, 4.2))
        ax.plot([0, 1], [0, 1], color="#aaa", lw=0.8, ls=":", label=tr("ideal"))
        ax.errorbar(table["mean_predicted"], table["observed"],
                    yerr=[table["observed"] - table["ci_lower"], table["ci_upper"] - table["observed"]],
                    fmt="o", color="#1f4e79", ms=4, capsize=2, lw=1, label=tr("deciles"))
        ax.set_xlabel(tr("predicted"))
        ax.set_ylabel(tr("observed"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.legend(loc="upper left", frameon=False)
        return fig

    return _svg(draw, lang)
