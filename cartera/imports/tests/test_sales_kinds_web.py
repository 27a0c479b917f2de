"""The pipeline kinds through the web pages, the REST API and ``cartera import``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from cartera.core.testing import Book, client_for
from cartera.imports import services
from cartera.imports.models import ImportJob, ImportStatus
from cartera.sales.models import Opportunity, Pipeline
from cartera.sales.services import ensure_default_pipeline

from .support import counts, csv_bytes, uploads
from .test_cli import cartera
from .test_sales_kinds import DEALS, _deals, import_people, import_products

__all__ = ["uploads"]


@pytest.fixture
def catalogue(book: Book, uploads: Path) -> Book:
    import_people(book.admin)
    import_products(book.admin)
    from cartera.accounts.services import create_account

    create_account(actor=book.admin, data={"name": "Cancity"})
    return book


def _file(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


@pytest.mark.django_db
def test_the_upload_page_offers_the_kinds_each_person_may_import(book: Book) -> None:
    admin_form = client_for(book.admin).get(reverse("imports:new")).context["form"]
    assert {"users", "products", "opportunities"} <= {
        v for v, _l in admin_form["kind"].field.choices
    }
    rep_form = client_for(book.owner).get(reverse("imports:new")).context["form"]
    rep_kinds = {value for value, _label in rep_form["kind"].field.choices}
    assert "opportunities" in rep_kinds
    assert "users" not in rep_kinds and "products" not in rep_kinds
    response = client_for(book.owner).post(
        reverse("imports:new"), {"kind": "users", "file": _file(b"Name\nAna\n", "p.csv")}
    )
    assert response.status_code == 422
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_web_import_of_opportunities_with_pipeline_currency_and_stage_options(
    catalogue: Book,
) -> None:
    client = client_for(catalogue.admin)
    response = client.post(
        reverse("imports:new"), {"kind": "opportunities", "file": _file(_deals(DEALS), "p.csv")}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get(kind="opportunities")
    page = client.get(reverse("imports:mapping", args=[job.pk]))
    html = page.content.decode()
    for name in ("option_currency", "option_pipeline", "option_stage_map", "option_add_stages"):
        assert f'name="{name}"' in html
    assert "GTXPro" in html  # the preview's sample rows
    data: dict[str, Any] = {
        f"column_{index}": job.mapping.get(header, "") for index, header in enumerate(job.headers)
    }
    data.update({f"match_{index}": key for index, key in enumerate(job.match_order)})
    data.update(
        option_currency="usd",
        option_pipeline="",
        option_stage_map="Engaging=Qualification\nProspecting=Qualification",
    )
    ensure_default_pipeline()
    response = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.options["defaults"] == {"currency": "USD"}
    assert job.options["stage_map"] == {
        "Engaging": "Qualification",
        "Prospecting": "Qualification",
    }
    assert (job.dry_run_created, job.dry_run_rejected) == (4, 2)
    services.start(actor=catalogue.admin, job=job)
    job = services.run(job.pk)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (4, 0, 0, 2)
    assert Opportunity.objects.filter(currency="USD", stage__name="Qualification").count() == 2
    page = client.get(reverse("imports:detail", args=[job.pk]))
    assert page.status_code == 200
    assert f'href="{reverse("sales:list")}"' in page.content.decode()


@pytest.mark.django_db
def test_a_bad_stage_map_line_is_shown_on_the_form(catalogue: Book) -> None:
    client = client_for(catalogue.admin)
    client.post(
        reverse("imports:new"), {"kind": "opportunities", "file": _file(_deals(DEALS), "p.csv")}
    )
    job = ImportJob.objects.get(kind="opportunities")
    data: dict[str, Any] = {
        f"column_{index}": job.mapping.get(header, "") for index, header in enumerate(job.headers)
    }
    data.update({"match_0": "external_id", "option_stage_map": "Engaging"})
    response = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert response.status_code == 422
    assert "file stage=pipeline stage" in response.content.decode()


@pytest.mark.django_db
def test_api_sets_the_stage_map_of_an_opportunities_import(catalogue: Book) -> None:
    client = client_for(catalogue.admin)
    response = client.post(
        "/api/v1/imports", {"kind": "opportunities", "file": _file(_deals(DEALS), "p.csv")}
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["pk"]
    body = {
        "mapping": response.json()["mapping"],
        "defaults": {"currency": "USD", "pipeline": "API deals"},
        "add_stages": True,
    }
    response = client.put(
        f"/api/v1/imports/{job_id}/mapping", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    job = services.run(job_id)
    assert counts(job) == (4, 0, 0, 2)
    assert Pipeline.objects.get(name="API deals").stages.count() == 4


@pytest.mark.django_db
def test_cli_imports_opportunities_with_stage_options(
    catalogue: Book, tmp_path: Path, capsys: Any
) -> None:
    source = tmp_path / "pipeline.csv"
    source.write_bytes(_deals(DEALS))
    ensure_default_pipeline()
    common = ["--user", catalogue.admin.email, "--no-progress", "--default", "currency=USD"]
    code = cartera("import", "opportunities", str(source), "--dry-run", *common)
    out = capsys.readouterr().out
    assert code == 0
    assert "would create 2, update 0, leave 0 unchanged, reject 4" in out
    code = cartera(
        "import", "opportunities", str(source), *common,
        "--map-stage", "Engaging=Qualification", "--map-stage", "Prospecting=Qualification",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "4 created, 0 updated, 0 unchanged, 2 rejected" in out
    assert (tmp_path / "pipeline.errors.csv").exists()
    code = cartera("import", "opportunities", str(source), "--map-stage", "Engaging", *common)
    assert code == 2
    code = cartera("import", "users", str(source), "--fields")
    assert "email_domain" in capsys.readouterr().out
    code = cartera(
        "import", "opportunities", str(source), *common, "--pipeline", "From CLI", "--add-stages"
    )
    assert code == 0
    assert Pipeline.objects.get(name="From CLI").stages.count() == 4


@pytest.mark.django_db
def test_people_without_permission_get_a_clear_cli_error(
    book: Book, tmp_path: Path, uploads: Path, capsys: Any
) -> None:
    source = tmp_path / "teams.csv"
    source.write_bytes(csv_bytes([["sales_agent", "manager"], ["Ana", "Bea"]]))
    code = cartera("import", "users", str(source), "--user", book.owner.email)
    assert code == 2
    assert "administrators" in capsys.readouterr().err
