"""The case list (filter, sort) and the case viewer page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from wristbme.bones import Bone
from wristbme.i18n import t
from wristbme.web import schemas as v
from wristbme.web.deps import Lang, Services, Viewer, csrf_token, js_text, render, safe_json
from wristbme.web.security import Role

router = APIRouter()

PSEUDONYM = r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$"


@router.get("/cases")
def case_list(request: Request, services: Services, user: Viewer,
              site: Annotated[str | None, Query(max_length=8, pattern=r"^(S\d{2})?$")] = None,
              bme: Annotated[str | None, Query(pattern=r"^(yes|no|unknown)?$")] = None,
              qc: Annotated[str | None, Query(pattern=r"^(flagged|clean)?$")] = None,
              sort: Annotated[str, Query(pattern=r"^(pseudonym|site|bme|qc|score)$")] = "pseudonym",
              desc: Annotated[str | None, Query(max_length=5)] = None,
              min_score: Annotated[str | None, Query(max_length=8)] = None):
    score = None
    if min_score not in (None, ""):
        try:
            score = float(min_score)
        except ValueError:
            score = None
    query = v.CaseFilter(site=site or None, bme=bme or None, qc=qc or None, sort=sort,
                         descending=desc in ("1", "true", "on"), min_score=score)
    return render(request, "cases.html", page="cases", rows=services.list_cases(query), q=query,
                  sites=services.site_codes(), bme_values=v.BME_VALUES, qc_values=v.QC_VALUES,
                  sort_keys=v.SORT_KEYS)


@router.get("/cases/{pseudonym}")
def case_page(request: Request, services: Services, user: Viewer, lang: Lang,
              pseudonym: Annotated[str, Path(pattern=PSEUDONYM)],
              image: Annotated[int | None, Query(ge=1)] = None):
    case = services.case(pseudonym, image)
    detail = services.image_detail(case.image.id) if case.image is not None else None
    can_edit = user.role.allows(Role.OPERATOR)
    viewer = None
    if detail is not None:
        viewer = {"image": v.to_jsonable(detail.image), "anatomy": detail.anatomy,
                  "scores": v.to_jsonable(detail.scores), "previewScale": detail.preview_scale,
                  "previewUrl": f"/images/{detail.image.id}/preview.png",
                  "fullUrl": f"/images/{detail.image.id}/full.png",
                  "saveUrl": f"/api/images/{detail.image.id}/corrections",
                  "canEdit": can_edit, "csrf": csrf_token(request),
                  "boneNames": {b.value: b.label(lang) for b in Bone}}
    previous_case, next_case = services.neighbours(case.row.pseudonym)
    return render(request, "case.html", page="cases", c=case, detail=detail, bones=list(Bone),
                  previous_case=previous_case, next_case=next_case,
                  can_edit=can_edit, viewer_json=safe_json(viewer) if viewer else "null",
                  viewer_text=js_text(lang, ("web.viewer.", "web.scores.", "web.common.")),
                  title=t("web.case.title", lang, pseudonym=case.row.pseudonym))
