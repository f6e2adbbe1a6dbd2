"""Build the study report: numbers → figures → HTML (Jinja2, self-contained) → PDF (WeasyPrint)."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from wristbme.bones import Bone
from wristbme.errors import ConfigError, InputError
from wristbme.i18n import catalog, normalize_lang, t
from wristbme.report import figures as F
from wristbme.report.analysis import Analysis, analyze
from wristbme.report.checklists import GRRAS_ITEMS, STARD_ITEMS
from wristbme.report.contract import StudyData

log = logging.getLogger(__name__)

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
NUMBERS_NAME = "numbers.json"


@dataclass(frozen=True)
class ReportResult:
    """Paths of what :func:`build_report` wrote and the numbers it reported.

    Attributes
    ----------
    html_path : Path
    pdf_path : Path or None
        None when ``pdf=False``.
    numbers_path : Path
    numbers : dict
        The same content as ``numbers.json``.
    timings_s : dict
        Seconds spent in ``analyze``, ``figures``, ``html`` and ``pdf``.
    """

    html_path: Path
    pdf_path: Path | None
    numbers_path: Path
    numbers: dict
    timings_s: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# formatting (every number the reader sees goes through one of these)


class Formatter:
    """Language-aware number formatting: estimates always with their interval."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def num(self, x, digits: int = 2) -> str:
        if x is None:
            return "—"
        return f"{x:.{digits}f}"

    def ci(self, e: dict | None, digits: int = 2, scale: float = 1.0) -> str:
        if not e or e.get("value") is None:
            return t("report.fmt.na", self.lang)
        lo, hi = e.get("ci_lower"), e.get("ci_upper")
        return t("report.fmt.ci", self.lang, value=self.num(e["value"] * scale, digits),
                 conf=f"{100 * e.get('conf', 0.95):.0f}", lower=self.num(None if lo is None else lo * scale, digits),
                 upper=self.num(None if hi is None else hi * scale, digits))

    def pct_ci(self, e: dict | None, digits: int = 1) -> str:
        if not e or e.get("value") is None:
            return t("report.fmt.na", self.lang)
        return t("report.fmt.pct_ci", self.lang, value=self.num(100 * e["value"], digits),
                 conf=f"{100 * e.get('conf', 0.95):.0f}", lower=self.num(100 * e["ci_lower"], digits),
                 upper=self.num(100 * e["ci_upper"], digits))

    def p(self, p) -> str:
        if p is None:
            return "—"
        return "< 0.001" if p < 0.001 else f"{p:.3f}"

    def p_eq(self, p) -> str:
        """``p = 0.123`` or ``p < 0.001`` (for running text)."""
        if p is None:
            return "p —"
        return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"

    def iqr(self, q: dict, digits: int = 1) -> str:
        if not q or q.get("median") is None:
            return "—"
        return t("report.fmt.median_iqr", self.lang, median=self.num(q["median"], digits),
                 q1=self.num(q["q1"], digits), q3=self.num(q["q3"], digits))


def _reason(code: str, lang: str) -> str:
    """A flow reason code in words; ``kind:detail`` codes (e.g. ``not_scorable:cast_or_metal``) put the
    detail, itself translated where the catalog knows it, into the kind's sentence."""
    kind, _, detail = code.partition(":")
    if detail and f"report.reason.{kind}" in catalog():
        return t(f"report.reason.{kind}", lang, detail=_reason(detail, lang))
    key = f"report.reason.{code}"
    return t(key, lang) if key in catalog() else code


def _bone_label(value: str, lang: str) -> str:
    try:
        return Bone(value).label(lang)
    except ValueError:
        return value


def _figures(analysis: Analysis, lang: str) -> dict[str, str]:
    n = analysis.numbers
    figs = analysis.figures
    flang = F.figure_lang(lang)

    def tr(key: str, **kw) -> str:
        if key == "reason":
            return _reason(kw["code"], flang)
        return t(f"report.fig.{key}", flang, **kw)

    fmt = Formatter(flang)
    out: dict[str, str] = {"flow": F.flow_diagram(n["flow"], tr, flang)}
    rows = [{"label": f"{s} (n={v['n_wrists']})", "value": v["auc_bootstrap"]["value"],
             "lo": v["auc_bootstrap"]["ci_lower"], "hi": v["auc_bootstrap"]["ci_upper"]}
            for s, v in n["site_auc"].items() if v.get("auc_bootstrap")]
    het = n.get("heterogeneity")
    pooled = None
    if het:
        r = het["REML"]
        pooled = {"label": tr("pooled_reml"), "value": r["pooled"]["value"], "lo": r["pooled"]["ci_lower"],
                  "hi": r["pooled"]["ci_upper"], "pi": r["prediction"]}
    if rows:
        out["forest"] = F.forest_plot(rows, pooled, tr, flang, xlabel=tr("auc_axis"), xlim=(0.4, 1.0))
    if "roc_pooled" in figs:
        acc = n["accuracy"]
        pts = [{"label": tr("cutoff_point", cutoff=fmt.num(acc["prespecified"]["cutoff"], 0)),
                "sens": acc["prespecified"]["sensitivity"]["value"], "spec": acc["prespecified"]["specificity"]["value"]},
               {"label": tr("youden_point", cutoff=fmt.num(acc["youden"]["cutoff"], 1)),
                "sens": acc["youden"]["sensitivity"]["value"], "spec": acc["youden"]["specificity"]["value"]}]
        out["roc"] = F.roc_plot(figs["roc_pooled"], figs.get("site_curves", {}), pts, tr, flang)
    for key in ("test_retest", "inter_operator"):
        plot = figs.get(f"ba_{key}")
        if plot is not None and n[key] and n[key].get("bland_altman"):
            out[f"ba_{key}"] = F.bland_altman_plot(plot, n[key]["bland_altman"], tr, flang)
    bone_rows = [{"label": _bone_label(b, flang), "value": v["auc_bootstrap"]["value"],
                  "lo": v["auc_bootstrap"]["ci_lower"], "hi": v["auc_bootstrap"]["ci_upper"]}
                 for b, v in n.get("per_bone", {}).items() if v.get("auc_bootstrap")]
    if bone_rows:
        out["per_bone"] = F.forest_plot(bone_rows, None, tr, flang, xlabel=tr("auc_axis"), xlim=(0.4, 1.0))
    if figs.get("by_grade") is not None and len(figs["by_grade"]):
        out["by_grade"] = F.grade_plot(figs["by_grade"], tr, flang)
    if figs.get("calibration") is not None:
        out["calibration"] = F.calibration_plot(figs["calibration"], tr, flang)
    return out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("wristbme.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def render_html(analysis: Analysis, lang: str, fig: dict[str, str]) -> str:
    """The self-contained HTML document (CSS inline, figures as data URIs)."""
    env = _environment()
    fmt = Formatter(lang)

    def tr(key: str, **kw) -> str:
        return t(f"report.{key}", lang, **kw)

    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    label = t("report.figure_label", lang).replace('"', "")
    sep = "" if lang == "ja" else " "
    css += f'figcaption::before {{ content: "{label}{sep}" counter(fig) ". "; font-weight: bold; }}\n'

    template = env.get_template("report.html.j2")
    html = template.render(n=analysis.numbers, fig=fig, t=tr, f=fmt, lang=lang, css=css,
                           reason=lambda c: _reason(c, lang), bone=lambda b: _bone_label(b, lang),
                           grras=GRRAS_ITEMS, stard=STARD_ITEMS, figures_lang=F.figure_lang(lang))
    return unlink_missing_anchors(html)


_ANCHOR_LINK = re.compile(r'<a href="#([^"]+)">(.*?)</a>', re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def unlink_missing_anchors(html: str) -> str:
    """Turn links to sections this report does not contain (e.g. accuracy on too few wrists) into plain text,
    so the checklists never point at nothing."""
    ids = set(_ID.findall(html))
    return _ANCHOR_LINK.sub(lambda m: m.group(0) if m.group(1) in ids else m.group(2), html)


def write_pdf(html: str, path: Path) -> None:
    """Render ``html`` to ``path`` with WeasyPrint."""
    try:
        import weasyprint
    except ImportError as exc:  # pragma: no cover - weasyprint is a pinned dependency
        raise ConfigError("WeasyPrint is not importable; install it (pip install weasyprint) or pass pdf=False") from exc
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))


def build_report(data: StudyData, out_dir: str | Path, lang: str = "en", *, bootstrap: int = 1000, seed: int = 0,
                 pdf: bool = True) -> ReportResult:
    """Analyse ``data`` and write ``report.html``, ``report.pdf`` and ``numbers.json`` into ``out_dir``.

    Parameters
    ----------
    data : StudyData
    out_dir : path
        Created if missing.
    lang : {"ja", "en"}
    bootstrap : int
        Patient-clustered bootstrap replicates.
    seed : int
        Bootstrap seed; the same data, bootstrap and seed give identical ``numbers.json``.
    pdf : bool
        Also write the PDF (WeasyPrint).

    Returns
    -------
    ReportResult
    """
    lang = normalize_lang(lang)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the report folder ({exc.strerror})", path=out) from exc
    timings = {}
    t0 = time.perf_counter()
    analysis = analyze(data, n_boot=bootstrap, seed=seed)
    timings["analyze"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fig = _figures(analysis, lang)
    timings["figures"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    html = render_html(analysis, lang, fig)
    html_path = out / HTML_NAME
    html_path.write_text(html, encoding="utf-8")
    numbers_path = out / NUMBERS_NAME
    numbers_path.write_text(json.dumps(analysis.numbers, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
    timings["html"] = time.perf_counter() - t0
    pdf_path = None
    if pdf:
        t0 = time.perf_counter()
        pdf_path = out / PDF_NAME
        write_pdf(html, pdf_path)
        timings["pdf"] = time.perf_counter() - t0
    return ReportResult(html_path, pdf_path, numbers_path, analysis.numbers, timings)
