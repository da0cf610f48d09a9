"""`/notices/{controller}/{audience}`: the controller by id or by name, as the API takes it."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from graph.database import Database

pytestmark = pytest.mark.neo4j

DAY = "2022-06-01"
ID = "allestree-woodlands"


@pytest.mark.parametrize("given", ["Allestree Woodlands School", "allestree woodlands SCHOOL"])
async def test_a_notice_by_the_controllers_name_is_the_one_by_its_id(
    example: Database, client: httpx.AsyncClient, given: str
) -> None:
    by_id = await client.get(f"/notices/{ID}/pupils?asOf={DAY}")
    by_name = await client.get(f"/notices/{quote(given)}/pupils?asOf={DAY}")
    assert by_id.status_code == 200, by_id.text
    assert by_name.status_code == 200, by_name.text
    assert by_name.text == by_id.text
    # Its links are the stable ones, by id.
    assert f'href="/notices/{ID}/pupils.md?asOf={DAY}"' in by_name.text

    download = await client.get(f"/notices/{quote(given)}/parents.md?asOf={DAY}")
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"] == (
        f'attachment; filename="privacy-notice-{ID}-parents-{DAY}.md"'
    )
    assert download.text == (await client.get(f"/notices/{ID}/parents.md?asOf={DAY}")).text


async def test_an_unknown_controller_is_not_found(
    example: Database, client: httpx.AsyncClient
) -> None:
    response = await client.get(f"/notices/{quote('No Such School')}/pupils?asOf={DAY}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert "No Such School" in response.json()["error"]["message"]
