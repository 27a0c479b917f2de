"""``base.html`` keeps the parts that only depend on the language and the person's
permissions in the per-process cache (``{% cache %}``): each person still gets their own
navigation, in their language, with the current page marked."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cartera.core.testing import Book, client_for, fresh
from cartera.users.services import update_user


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def nav(html: str) -> str:
    return html.split('<main class="container-fluid py-3" id="main">', 1)[0]


def active_links(html: str) -> list[str]:
    return re.findall(r'class="(?:nav-link|dropdown-item)[^"]* active" href="([^"]+)"', nav(html))


def test_each_person_gets_their_own_menu_whoever_rendered_it_first(book: Book) -> None:
    pages = {}
    for persona in ["director", "read_only", "admin", "owner", "director"]:
        html = client_for(book.persona(persona)).get(reverse("accounts:list")).content.decode()
        pages[persona] = nav(html)
    assert reverse("sales:settings") in pages["director"]  # sees everything
    assert reverse("sales:settings") not in pages["owner"]
    assert reverse("imports:list") in pages["owner"]  # writes
    assert reverse("imports:list") not in pages["read_only"]
    assert reverse("users:user_list") in pages["admin"]  # administers
    assert reverse("users:user_list") not in pages["director"]
    assert "Dora" in pages["director"] and "Olga" in pages["owner"]  # names are not cached


def test_the_current_page_is_marked_on_every_page(book: Book) -> None:
    client = client_for(book.owner)
    marked = {
        reverse("accounts:list"): [reverse("accounts:list")],
        reverse("contacts:list"): [reverse("contacts:list")],
        reverse("sales:list"): ["#", reverse("sales:list")],  # the Deals menu, then its item
    }
    for url, links in marked.items():
        assert active_links(client.get(url).content.decode()) == links


def test_language_and_csrf_token_are_per_request(book: Book) -> None:
    client = client_for(book.owner)
    english = nav(client.get(reverse("accounts:list")).content.decode())
    update_user(actor=book.admin, user=fresh(book.owner), changes={"language": "es"})
    spanish = nav(client.get(reverse("accounts:list")).content.decode())
    with translation.override("es"):
        assert translation.gettext("Contacts") in spanish
    assert ">Contacts<" in english and ">Contacts<" not in spanish
    other: Client = client_for(book.director)
    pages = (english, nav(other.get(reverse("accounts:list")).content.decode()))
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page) for page in pages]
    assert tokens[0] and tokens[1] and tokens[0] != tokens[1]
