"""The imports API: upload, preview, mapping, dry run, start, progress, cancel, error CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from cartera.accounts.models import Account
from cartera.core.testing import PERSONAS, PROBLEM, Book, client_for
from cartera.imports import services
from cartera.imports.models import ImportJob, ImportStatus
from cartera.users.models import User
from cartera.users.services import create_api_token

BASE = "/api/v1/imports"

#: UTF-8 with BOM, commas, HubSpot-style headers: two good rows, one without a name.
HUBSPOT_CSV = (
    "\ufeffRecord ID,Company name,Company Domain Name,Phone Number,Country/Region,City\r\n"
    "101,Acme Iberia,acme.example,+34 911 234 567,Spain,Madrid\r\n"
    "102,Globex Nordic,globex.example,+46 8 123 456 78,Sweden,Stockholm\r\n"
    "103,,nameless.example,,France,\"=cmd|' /C calc'!A0\"\r\n"
).encode()


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a fresh folder per test."""
    settings.DATA_DIR = tmp_path


def upload(client: Client, content: bytes = HUBSPOT_CSV, **data: Any) -> Any:
    """POST /imports as multipart."""
    handle = io.BytesIO(content)
    handle.name = data.pop("name", "companies.csv")
    return client.post(BASE, {"kind": data.pop("kind", "accounts"), "file": handle, **data})


def make_job(user: User) -> ImportJob:
    """An uploaded job (status "uploaded")."""
    handle = io.BytesIO(HUBSPOT_CSV)
    return services.create_job(
        actor=user, kind="accounts", file_name="companies.csv", stream=handle
    )


def put_json(client: Client, path: str, body: Any) -> Any:
    """PUT a JSON body."""
    return client.put(path, json.dumps(body), content_type="application/json")


def stored_files(root: Path) -> list[Path]:
    """Files left under the data folder."""
    return [path for path in root.rglob("*") if path.is_file()]


# --- upload ------------------------------------------------------------------------------------


def test_upload_detects_the_file_and_proposes_a_mapping(book: Book) -> None:
    response = upload(client_for(book.owner))
    assert response.status_code == 201
    body = response.json()
    job = ImportJob.objects.get()
    assert response["Location"] == f"{BASE}/{job.pk}"
    assert body["pk"] == job.pk
    assert body["status"] == "uploaded"
    assert body["user"] == {"pk": book.owner.pk, "full_name": "Olga Owner"}
    assert (body["format"], body["delimiter"]) == ("csv", ",")
    assert body["encoding_label"] == "UTF-8 (BOM)"
    assert body["headers"][:2] == ["Record ID", "Company name"]
    assert body["mapping"] == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company Domain Name": "website",
        "Phone Number": "phone",
        "Country/Region": "country",
        "City": "city",
    }
    assert body["match_order"] == ["external_id", "tax_id", "domain", "email", "name"]
    assert body["total_rows"] == 3
    assert body["dry_run"] is None
    assert body["issues"] == []


def test_upload_map_check_and_start_in_one_request(
    book: Book, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(book.owner)
    mapping = {"Company name": "name", "Record ID": "external_id", "City": "city"}
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(
            client,
            mapping=json.dumps(mapping),
            match_order="external_id,name",
            save_as="HubSpot companies",
            dry_run="true",
            start="true",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["mapping"] == mapping
    assert body["match_order"] == ["external_id", "name"]
    assert body["mapping_name"] == "HubSpot companies"
    assert body["dry_run"]["created"] == 2
    assert body["dry_run"]["rejected"] == 1
    assert body["dry_run"]["complete"] is True
    assert [issue["row"] for issue in body["issues"]] == [4]
    task = DBTaskResult.objects.get()
    assert task.args_kwargs == {"args": [body["pk"]], "kwargs": {}}
    assert not Account.objects.filter(external_id="101").exists()


def test_refused_upload_keeps_nothing(book: Book, tmp_path: Path) -> None:
    # The file is fine but the mapping is not: no job and no stored file remain.
    response = upload(client_for(book.owner), mapping=json.dumps({"City": "city"}))
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert "name" in " ".join(response.json()["errors"]["mapping"])
    assert not ImportJob.objects.exists()
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(
    ("data", "content", "field", "message"),
    [
        ({}, b"", "file", "empty"),
        ({}, b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 10, "file", "not a CSV or XLSX"),
        ({"kind": "invoices"}, HUBSPOT_CSV, "kind", "valid choice"),
        ({"mapping": "{not json"}, HUBSPOT_CSV, "mapping", "JSON object"),
        ({"mapping": '["Company name"]'}, HUBSPOT_CSV, "mapping", "JSON object"),
        ({"mapping": '{"Company name": "nope"}'}, HUBSPOT_CSV, "mapping", "Unknown field"),
        ({"match_order": "colour"}, HUBSPOT_CSV, "match_order", "cannot be matched by"),
        ({"owner": "999999"}, HUBSPOT_CSV, "owner", "no such person"),
        ({"delimiter": ";;"}, HUBSPOT_CSV, "delimiter", "at most 1"),
    ],
)
def test_bad_uploads_are_problems_with_field_errors(
    book: Book, data: dict[str, Any], content: bytes, field: str, message: str, tmp_path: Path
) -> None:
    response = upload(client_for(book.owner), content, **data)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    errors = response.json()["errors"]
    assert message in " ".join(errors[field]), errors
    assert not ImportJob.objects.exists()
    assert stored_files(tmp_path) == []


def test_upload_without_a_file(book: Book) -> None:
    response = client_for(book.owner).post(BASE, {"kind": "accounts"})
    assert response.status_code == 422
    assert response.json()["errors"]["file"] == ["This field is required."]


def test_upload_too_large(book: Book, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 50
    response = upload(client_for(book.owner))
    assert response.status_code == 422
    assert "larger than" in response.json()["errors"]["file"][0]


def test_read_only_cannot_upload_and_anonymous_must_sign_in(book: Book) -> None:
    response = upload(client_for(book.read_only))
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    response = upload(Client())
    assert response.status_code == 401
    assert not ImportJob.objects.exists()


def test_upload_with_a_token_needs_no_csrf(book: Book) -> None:
    _token, raw = create_api_token(actor=book.owner, user=book.owner, name="script")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {raw}"})
    response = upload(client)
    assert response.status_code == 201
    # A browser session without the CSRF token is refused.
    strict = client_for(book.owner, enforce_csrf_checks=True)
    assert upload(strict).status_code == 403
    assert ImportJob.objects.count() == 1


# --- reading jobs ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_jobs_are_seen_by_their_owner_and_admins_only(book: Book, persona: str) -> None:
    job = make_job(book.owner)
    client = client_for(book.persona(persona))
    allowed = persona in {"owner", "admin"}
    listed = [item["pk"] for item in client.get(BASE).json()["items"]]
    assert (job.pk in listed) is allowed
    for suffix in ("", "/preview", "/errors"):
        response = client.get(f"{BASE}/{job.pk}{suffix}")
        assert response.status_code == (200 if allowed else 404), suffix
    # In a valid order, so that the owner and admins succeed at each step.
    for method, suffix, success in [
        ("put", "/mapping", 200),
        ("post", "/dry-run", 200),
        ("post", "/start", 202),
        ("post", "/cancel", 200),
    ]:
        response = getattr(client, method)(
            f"{BASE}/{job.pk}{suffix}",
            json.dumps({"mapping": job.mapping}),
            content_type="application/json",
        )
        assert response.status_code == (success if allowed else 404), suffix
        if not allowed:
            assert response["Content-Type"] == PROBLEM
    job.refresh_from_db()
    assert job.status == (ImportStatus.CANCELLED if allowed else ImportStatus.UPLOADED)


def test_list_is_a_cursor_page(book: Book, django_assert_num_queries: Any) -> None:
    ImportJob.objects.bulk_create(
        [
            ImportJob(
                user=book.owner,
                kind="contacts",
                file_name=f"f{i}.csv",
                format="csv",
                default_owner=book.teammate,
            )
            for i in range(7)
        ]
    )
    client = client_for(book.owner)
    # session, user, the page of jobs (their user joined).
    with django_assert_num_queries(3):
        first = client.get(BASE, {"limit": 5}).json()
    assert len(first["items"]) == 5
    assert first["items"][0]["default_owner"] == book.teammate.pk
    assert first["previous_cursor"] is None
    second = client.get(BASE, {"limit": 5, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    assert client.get(BASE, {"cursor": "garbage"}).status_code == 422
    assert client.get(BASE, {"limit": 0}).status_code == 422


def test_preview_has_samples_fields_and_keys(book: Book) -> None:
    job = make_job(book.owner)
    body = client_for(book.owner).get(f"{BASE}/{job.pk}/preview").json()
    assert body["rows"][0][:2] == ["101", "Acme Iberia"]
    assert body["row_numbers"] == [2, 3, 4]
    assert {"value": "tax_id", "label": "Tax id"} in body["fields"]
    assert [key["value"] for key in body["match_keys"]] == [
        "external_id",
        "tax_id",
        "domain",
        "email",
        "name",
    ]
    assert body["encoding_label"] == "UTF-8 (BOM)"
    assert body["missing"] == []


def test_unknown_job_is_a_404_problem(book: Book) -> None:
    response = client_for(book.owner).get(f"{BASE}/424242")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


# --- mapping, dry run, start, cancel, errors ---------------------------------------------------


def test_put_mapping_validates_and_clears_the_dry_run(book: Book) -> None:
    job = make_job(book.owner)
    client = client_for(book.owner)
    path = f"{BASE}/{job.pk}/mapping"
    bad = put_json(client, path, {"mapping": {"City": "name", "Company name": "name"}})
    assert bad.status_code == 422
    assert "both go to" in " ".join(bad.json()["errors"]["mapping"])
    assert put_json(client, path, {"mapping": {}, "extra": 1}).json()["errors"] == {
        "extra": ["Unknown field."]
    }
    nul = put_json(client, path, {"mapping": {"Company\x00name": "name"}})
    assert nul.status_code == 422
    assert "NUL" in nul.json()["errors"]["mapping"][0]
    stranger = put_json(client, path, {"mapping": {"Company name": "name"}, "owner": 10**6})
    assert stranger.json()["errors"] == {"owner": ["There is no such person."]}
    outsider = put_json(
        client, path, {"mapping": {"Company name": "name"}, "owner": book.outsider.pk}
    )
    assert outsider.status_code == 422
    assert "owner" in outsider.json()["errors"]

    client.post(f"{BASE}/{job.pk}/dry-run")
    good = put_json(
        client,
        path,
        {
            "mapping": {"Company name": "name", "City": "city", "Phone Number": None},
            "match_order": ["name"],
            "defaults": {"currency": "USD"},
        },
    )
    assert good.status_code == 200, good.content
    body = good.json()
    assert body["status"] == "mapped"
    assert body["mapping"] == {"Company name": "name", "City": "city"}
    assert body["match_order"] == ["name"]
    assert body["dry_run"] is None


def test_dry_run_start_run_result_and_error_csv(
    book: Book, django_capture_on_commit_callbacks: Any
) -> None:
    job = make_job(book.owner)
    client = client_for(book.owner)
    put_json(client, f"{BASE}/{job.pk}/mapping", {"mapping": job.mapping})

    checked = client.post(f"{BASE}/{job.pk}/dry-run", QUERY_STRING="full=true")
    assert checked.status_code == 200
    dry = checked.json()["dry_run"]
    assert (dry["created"], dry["updated"], dry["unchanged"], dry["rejected"]) == (2, 0, 0, 1)
    assert not Account.objects.filter(external_id="101").exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{BASE}/{job.pk}/start")
    assert started.status_code == 202
    assert started.json()["status"] == "queued"
    task = DBTaskResult.objects.get()
    task.task.call(*task.args_kwargs["args"])

    body = client.get(f"{BASE}/{job.pk}").json()
    assert body["status"] == "done"
    assert body["percent"] == 100
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (2, 0, 0, 1)
    assert body["processed_rows"] == 3
    assert body["started_at"] and body["finished_at"]
    assert body["duration_seconds"] is not None
    assert body["issues"][0]["row"] == 4
    assert body["issues"][0]["severity"] == "error"
    assert Account.objects.get(external_id="101").name == "Acme Iberia"

    response = client.get(f"{BASE}/{job.pk}/errors")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][-3:] == ["Row", "Column", "Reason"]
    assert rows[1][0] == "103"
    assert rows[1][5] == "'=cmd|' /C calc'!A0"
    assert rows[1][6] == "4"

    # Starting a finished job again is refused; re-importing the file changes nothing.
    again = client.post(f"{BASE}/{job.pk}/start")
    assert again.status_code == 422
    assert again["Content-Type"] == PROBLEM
    with django_capture_on_commit_callbacks(execute=True):
        second = upload(client, dry_run="true", start="true")
    second_body = second.json()
    assert second_body["dry_run"]["unchanged"] == 2
    services.run(second_body["pk"])
    rerun = client.get(f"{BASE}/{second_body['pk']}").json()
    assert (rerun["created"], rerun["updated"], rerun["unchanged"]) == (0, 0, 2)


def test_cancel_a_queued_job(book: Book) -> None:
    job = make_job(book.owner)
    client = client_for(book.owner)
    put_json(client, f"{BASE}/{job.pk}/mapping", {"mapping": job.mapping})
    client.post(f"{BASE}/{job.pk}/start")
    response = client.post(f"{BASE}/{job.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert services.run(job.pk).status == ImportStatus.CANCELLED
    assert not Account.objects.filter(external_id="101").exists()


def test_admin_may_act_on_anyones_job_read_only_never(book: Book) -> None:
    job = make_job(book.owner)
    admin = client_for(book.admin)
    response = put_json(admin, f"{BASE}/{job.pk}/mapping", {"mapping": job.mapping})
    assert response.status_code == 200
    # A read-only person's own job (made before they became read-only) cannot be started.
    theirs = make_job(book.teammate)
    User.objects.filter(pk=book.teammate.pk).update(role="read_only")
    response = client_for(User.objects.get(pk=book.teammate.pk)).post(f"{BASE}/{theirs.pk}/start")
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == ImportStatus.UPLOADED


def test_openapi_documents_every_operation(book: Book) -> None:
    schema = client_for(book.owner).get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/imports"]) == {"get", "post"}
    for path, method in [
        ("/api/v1/imports/{pk}", "get"),
        ("/api/v1/imports/{pk}/preview", "get"),
        ("/api/v1/imports/{pk}/mapping", "put"),
        ("/api/v1/imports/{pk}/dry-run", "post"),
        ("/api/v1/imports/{pk}/start", "post"),
        ("/api/v1/imports/{pk}/cancel", "post"),
        ("/api/v1/imports/{pk}/errors", "get"),
    ]:
        operation = paths[path][method]
        assert operation["description"] or operation["summary"], path
        assert "404" in operation["responses"], path
    upload_body = paths["/api/v1/imports"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body
    assert "text/csv" in paths["/api/v1/imports/{pk}/errors"]["get"]["responses"]["200"]["content"]


def test_upload_with_a_saved_mapping(book: Book) -> None:
    client = client_for(book.owner)
    first = upload(
        client,
        mapping=json.dumps({"Company name": "name", "City": "region"}),
        save_as="Regions",
    )
    assert first.status_code == 201
    # Another file with those columns: the saved mapping is proposed without asking.
    assert upload(client).json()["mapping"] == {"Company name": "name", "City": "region"}
    chosen = upload(client, saved_mapping="Regions", dry_run="true")
    assert chosen.status_code == 201
    body = chosen.json()
    assert (body["mapping_name"], body["status"]) == ("Regions", "checked")
    unknown = upload(client, saved_mapping="Nope")
    assert unknown.status_code == 422
    assert "No saved mapping called Nope." in unknown.json()["errors"]["mapping"]
    both = upload(client, saved_mapping="Regions", mapping="{}")
    assert "saved_mapping" in both.json()["errors"]
    assert ImportJob.objects.count() == 3
