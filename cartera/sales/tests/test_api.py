"""The deals and pipelines API: access, entity tags, moves, stale boards, bad input."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cartera.core.testing import (
    JSON,
    PERSONAS,
    PROBLEM,
    Book,
    client_for,
    read_status,
    write_status,
)
from cartera.sales import services
from cartera.sales.models import LossReason, Opportunity, Pipeline, Stage, StageKind


def url(deal: Opportunity, suffix: str = "") -> str:
    return f"/api/v1/opportunities/{deal.pk}{suffix}"


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return Stage.objects.get(pipeline=pipeline, name=name)


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_by_persona(book: Book, deal: Opportunity, persona: str) -> None:
    response = client_for(book.persona(persona)).get(url(deal))
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        body = response.json()
        assert body["name"] == "Fleet renewal" and body["amount"] == "12000.00"
        assert body["weighted_amount"] == "1200.00"  # 10 % of the first stage
        assert body["account"]["pk"] == book.account.pk
        assert response["ETag"] == f'"{deal.pk}-1"'
    else:
        assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("persona", PERSONAS)
def test_move_by_persona(book: Book, deal: Opportunity, persona: str) -> None:
    proposal = stage_named(deal.pipeline, "Proposal")
    response = client_for(book.persona(persona)).post(
        url(deal, "/move"),
        {"stage": proposal.pk},
        content_type=JSON,
        headers={"If-Match": f'"{deal.pk}-1"'},
    )
    assert response.status_code == write_status(persona)
    deal.refresh_from_db()
    assert (deal.stage_id == proposal.pk) is (response.status_code == 200)
    if response.status_code == 200:
        assert response["ETag"] == f'"{deal.pk}-2"'
        assert response.json()["probability"] == 50


def test_list_only_shows_visible_deals(book: Book, deal: Opportunity) -> None:
    services.create_opportunity(actor=book.outsider, data={"name": "Nordic deal"})
    names = [
        item["name"] for item in client_for(book.owner).get("/api/v1/opportunities").json()["items"]
    ]
    assert names == ["Fleet renewal"]
    outsider = client_for(book.outsider).get("/api/v1/opportunities").json()["items"]
    assert [item["name"] for item in outsider] == ["Nordic deal"]
    everyone = client_for(book.director).get("/api/v1/opportunities?sort=name").json()["items"]
    assert [item["name"] for item in everyone] == ["Fleet renewal", "Nordic deal"]


def test_list_filters(book: Book, deal: Opportunity) -> None:
    other = services.create_opportunity(
        actor=book.owner,
        data={"name": "Upsell licences", "type": "upsell", "expected_close_date": "2030-01-10"},
    )
    client = client_for(book.owner)

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/opportunities?{query}")
        assert response.status_code == 200, response.content
        return sorted(item["name"] for item in response.json()["items"])

    assert names("type=upsell") == ["Upsell licences"]
    assert names(f"account={book.account.pk}") == ["Fleet renewal"]
    assert names("q=licen") == ["Upsell licences"]
    assert names("close_from=2030-01-01&close_to=2030-01-31") == ["Upsell licences"]
    assert names(f"owner={book.owner.pk}&team={book.team.pk}") == [
        "Fleet renewal",
        "Upsell licences",
    ]
    assert names(f"stage={other.stage_id}&status=won") == []
    assert names(f"pipeline={deal.pipeline_id}&sort=-amount") == [
        "Fleet renewal",
        "Upsell licences",
    ]
    response = client.get("/api/v1/opportunities?type=barter")
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM


def test_keyset_pages(book: Book, pipeline: Pipeline) -> None:
    for index in range(5):
        services.create_opportunity(actor=book.owner, data={"name": f"Deal {index}"})
    client = client_for(book.owner)
    first = client.get("/api/v1/opportunities?sort=name&limit=2").json()
    second = client.get(
        f"/api/v1/opportunities?sort=name&limit=2&cursor={first['next_cursor']}"
    ).json()
    assert [i["name"] for i in first["items"] + second["items"]] == [
        "Deal 0",
        "Deal 1",
        "Deal 2",
        "Deal 3",
    ]


def test_create_update_and_etag(book: Book, pipeline: Pipeline) -> None:
    client = client_for(book.owner)
    response = client.post(
        "/api/v1/opportunities",
        {
            "name": "API deal",
            "account": book.account.pk,
            "amount": "999.99",
            "currency": "USD",
            "type": "renewal",
            "expected_close_date": "2027-02-01",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "999.99" and body["currency"] == "USD" and body["status"] == "open"
    assert response["Location"].endswith(f"/opportunities/{body['pk']}")
    deal = Opportunity.objects.get(pk=body["pk"])
    response = client.patch(
        url(deal), {"next_step": "Send proposal"}, content_type=JSON, headers={"If-Match": "*"}
    )
    assert response.status_code == 200 and response.json()["next_step"] == "Send proposal"
    assert response["ETag"] == f'"{deal.pk}-2"'
    assert client.get(url(deal), headers={"If-None-Match": f'"{deal.pk}-2"'}).status_code == 304


def test_patch_needs_if_match_and_refuses_stale(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    response = client.patch(url(deal), {"next_step": "x"}, content_type=JSON)
    assert response.status_code == 428
    client.patch(url(deal), {"next_step": "a"}, content_type=JSON, headers={"If-Match": "*"})
    response = client.patch(
        url(deal), {"next_step": "b"}, content_type=JSON, headers={"If-Match": f'"{deal.pk}-1"'}
    )
    assert response.status_code == 412 and response["Content-Type"] == PROBLEM
    deal.refresh_from_db()
    assert deal.next_step == "a"


def test_stale_move_is_412_with_a_clear_message(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    stale = f'"{deal.pk}-1"'
    client.patch(url(deal), {"amount": "1.00"}, content_type=JSON, headers={"If-Match": stale})
    proposal = stage_named(deal.pipeline, "Proposal")
    response = client.post(
        url(deal, "/move"), {"stage": proposal.pk}, content_type=JSON, headers={"If-Match": stale}
    )
    assert response.status_code == 412
    assert "changed this deal" in response.json()["detail"]
    deal.refresh_from_db()
    assert deal.stage_id != proposal.pk


def test_move_to_lost_needs_reason(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    lost = services.lost_stage(deal.pipeline)
    tag = {"If-Match": f'"{deal.pk}-1"'}
    response = client.post(url(deal, "/move"), {"stage": lost.pk}, content_type=JSON, headers=tag)
    assert response.status_code == 422 and "loss_reason" in response.json()["errors"]
    reason = LossReason.objects.filter(is_active=True).first()
    response = client.post(
        url(deal, "/move"),
        {"stage": lost.pk, "loss_reason": reason.pk, "loss_note": "Too pricey"},
        content_type=JSON,
        headers=tag,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == StageKind.LOST and body["loss_reason"]["pk"] == reason.pk
    assert body["closed_on"] == timezone.localdate().isoformat()


def test_move_to_other_pipeline_stage_is_422(book: Book, deal: Opportunity) -> None:
    other = services.create_pipeline(actor=book.admin, data={"name": "Renewals"})
    response = client_for(book.owner).post(
        url(deal, "/move"),
        {"stage": other.stages.first().pk},
        content_type=JSON,
        headers={"If-Match": "*"},
    )
    assert response.status_code == 422 and "stage" in response.json()["errors"]


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x" * 201},
        {"name": "X", "amount": "-5"},
        {"name": "X", "amount": "1.001"},
        {"name": "X", "amount": 1e30},
        {"name": "X", "probability": 200},
        {"name": "X", "currency": "EURO"},
        {"name": "X", "colour": "red"},
        {"name": "X\u0000"},
        {"name": "X", "expected_close_date": "tomorrow"},
        {},
    ],
)
def test_bad_input_is_422(book: Book, pipeline: Pipeline, payload: dict) -> None:
    response = client_for(book.owner).post("/api/v1/opportunities", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    assert not Opportunity.objects.exists()


def test_stage_history(book: Book, deal: Opportunity) -> None:
    proposal = stage_named(deal.pipeline, "Proposal")
    services.move_opportunity(
        actor=book.owner, opportunity=deal, stage=proposal, expected_version=deal.version
    )
    body = client_for(book.teammate).get(url(deal, "/stages")).json()
    assert [visit["to_stage"]["name"] for visit in body] == ["Qualification", "Proposal"]
    assert body[0]["days"] == 0 and body[1]["from_stage"]["name"] == "Qualification"
    assert body[1]["changed_by"]["pk"] == book.owner.pk
    assert client_for(book.outsider).get(url(deal, "/stages")).status_code == 404


def test_contacts_and_lines(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    response = client.put(
        url(deal, f"/contacts/{book.contact.pk}"), {"role": "champion"}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["role"] == "champion"
    response = client.post(
        url(deal, "/lines"),
        {"description": "Consulting", "quantity": "2", "unit_price": "150.00"},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    line = response.json()
    assert line["total"] == "300.00"
    detail = client.get(url(deal)).json()
    assert detail["amount"] == "300.00"
    assert detail["contacts"][0]["contact"]["pk"] == book.contact.pk
    assert detail["lines"][0]["pk"] == line["pk"]
    response = client.patch(
        url(deal, f"/lines/{line['pk']}"), {"discount_percent": "50"}, content_type=JSON
    )
    assert response.json()["total"] == "150.00"
    assert client.delete(url(deal, f"/lines/{line['pk']}")).status_code == 204
    assert client.delete(url(deal, f"/contacts/{book.contact.pk}")).status_code == 204
    read_only = client_for(book.read_only)
    assert (
        read_only.post(url(deal, "/lines"), {"description": "x"}, content_type=JSON).status_code
        == 403
    )


def test_trash_and_restore(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    assert client.delete(url(deal), headers={"If-Match": f'"{deal.pk}-1"'}).status_code == 204
    assert client.get(url(deal)).status_code == 404
    assert client.post(url(deal, "/restore")).status_code == 200


def test_board_api(book: Book, deal: Opportunity) -> None:
    services.create_opportunity(
        actor=book.owner, data={"name": "Dollar deal", "amount": "100.50", "currency": "USD"}
    )
    response = client_for(book.owner).get(
        f"/api/v1/pipelines/{deal.pipeline_id}/board?per_column=1"
    )
    assert response.status_code == 200, response.content
    first = response.json()["columns"][0]
    assert first["count"] == 2 and first["has_more"] is True and len(first["cards"]) == 1
    totals = {t["currency"]: t for t in first["totals"]}
    assert totals["EUR"]["amount"] == "12000.00" and totals["EUR"]["weighted"] == "1200.00"
    assert totals["USD"]["amount"] == "100.50" and totals["USD"]["weighted"] == "10.05"
    outsider = client_for(book.outsider).get(f"/api/v1/pipelines/{deal.pipeline_id}/board")
    assert all(column["count"] == 0 for column in outsider.json()["columns"])


def test_forecast_api(book: Book, deal: Opportunity) -> None:
    today = timezone.localdate()
    services.update_opportunity(
        actor=book.owner,
        opportunity=deal,
        changes={"expected_close_date": today, "forecast_category": "commit"},
        expected_version=deal.version,
    )
    response = client_for(book.owner).get("/api/v1/opportunities/forecast?period=month&periods=2")
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["periods"]) == 2
    (row,) = body["rows"]
    assert row["key"] == book.owner.pk and row["currency"] == "EUR"
    assert row["cells"][0]["commit"] == "12000.00" and row["cells"][0]["weighted"] == "1200.00"
    assert row["cells"][1]["pipeline"] == "0.00"
    assert (
        client_for(book.owner).get("/api/v1/opportunities/forecast?period=week").status_code == 422
    )


def test_pipelines_api(book: Book, pipeline: Pipeline) -> None:
    client = client_for(book.owner)
    body = client.get("/api/v1/pipelines").json()
    assert body[0]["name"] == "Sales" and len(body[0]["stages"]) == 6
    assert client.post("/api/v1/pipelines", {"name": "Mine"}, content_type=JSON).status_code == 403
    admin = client_for(book.admin)
    response = admin.post(
        "/api/v1/pipelines",
        {"name": "Renewals", "stages": [{"name": "Due"}, {"name": "Won", "kind": "won"}]},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    created = response.json()
    stage_ids = [s["pk"] for s in created["stages"]]
    response = admin.put(
        f"/api/v1/pipelines/{created['pk']}/stage-order",
        {"stages": list(reversed(stage_ids))},
        content_type=JSON,
    )
    assert [s["pk"] for s in response.json()["stages"]] == list(reversed(stage_ids))
    response = admin.patch(
        f"/api/v1/pipelines/{created['pk']}/stages/{stage_ids[0]}",
        {"probability": 40, "usual_days": 7},
        content_type=JSON,
    )
    assert response.json()["probability"] == 40 and response.json()["usual_days"] == 7
    first_stage = pipeline.stages.order_by("position").first()
    response = admin.patch(
        f"/api/v1/pipelines/{created['pk']}/stages/{first_stage.pk}", {}, content_type=JSON
    )
    assert response.status_code == 404
    response = admin.post("/api/v1/loss-reasons", {"name": "Weather"}, content_type=JSON)
    assert response.status_code == 201
    reasons = [r["name"] for r in client.get("/api/v1/loss-reasons").json()]
    assert "Weather" in reasons


def test_delete_stage_with_deals_is_refused(book: Book, deal: Opportunity) -> None:
    response = client_for(book.admin).delete(
        f"/api/v1/pipelines/{deal.pipeline_id}/stages/{deal.stage_id}"
    )
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM


def test_export_csv(book: Book, deal: Opportunity) -> None:
    response = client_for(book.owner).get("/api/v1/opportunities/export?format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith("Name,Account,Pipeline,Stage")
    assert "Fleet renewal" in row and "12000" in row and "Olga Owner" in row
    outsider = client_for(book.outsider).get("/api/v1/opportunities/export?format=csv")
    assert len(b"".join(outsider.streaming_content).decode("utf-8-sig").splitlines()) == 1


def test_list_and_detail_query_counts(
    book: Book, pipeline: Pipeline, django_assert_max_num_queries
) -> None:
    for index in range(25):
        services.create_opportunity(
            actor=book.owner, data={"name": f"Deal {index}", "account": book.account}
        )
    client = client_for(book.owner)
    client.get("/api/v1/opportunities")  # warm the session and content types
    # session, user, scope, visible accounts, the page (stage, owner, account joined)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/opportunities?limit=25")
    assert len(response.json()["items"]) == 25
    deal = Opportunity.objects.first()
    assert deal is not None
    services.add_opportunity_line(
        actor=book.owner, opportunity=deal, data={"description": "x", "unit_price": "1"}
    )
    services.set_opportunity_contact(
        actor=book.owner, opportunity=deal, contact=book.contact, role="user"
    )
    # session, user, scope, visible accounts, the deal, its contacts, its lines
    with django_assert_max_num_queries(8):
        response = client.get(url(deal))
    assert response.status_code == 200 and len(response.json()["lines"]) == 1
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/pipelines").json()) == 1


def test_openapi_documents_the_sales_operations(db: None) -> None:
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/opportunities/{pk}/move" in paths
    assert "/api/v1/pipelines/{pk}/board" in paths
    assert "/api/v1/opportunities/forecast" in paths
