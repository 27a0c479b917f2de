"""Contact list rows rendered in Python: 50 rows of a template loop are most of the page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cartera.core.display import escape_text

register = template.Library()

#: One row of the contact list (``contacts/partials/contact_results.html``); values escaped.
CONTACT_ROW = """
    <tr>
      <td>
        <a href="{url}">{full_name}</a>
        {do_not_contact}
      </td>
      <td>{account}</td>
      <td class="wrap">{job_title}</td>
      <td>{email}</td>
      <td>{phone}</td>
      <td>{buying_role}</td>
      <td>{preferred_channel}</td>
    </tr>"""


@register.simple_tag
def contact_table_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The ``<tr>``s of the contact list from ``contact_rows`` values."""
    badge = (
        f'<span class="badge text-bg-danger ms-1">{escape_text(gettext("Do not contact"))}</span>'
    )
    html = []
    for row in rows:
        account = ""
        if row["account_url"]:
            url, name = escape_text(row["account_url"]), escape_text(row["account_name"])
            account = f'<a href="{url}">{name}</a>'
            if row["more_accounts"]:
                account += (
                    f' <span class="text-body-secondary small">+{row["more_accounts"]}</span>'
                )
        email = escape_text(row["email"])
        phone = ""
        if row["tel"]:
            phone = f'<a href="tel:{escape_text(row["tel"])}">{escape_text(row["phone"])}</a>'
        html.append(
            CONTACT_ROW.format(
                url=escape_text(row["url"]),
                full_name=escape_text(row["full_name"]),
                do_not_contact=badge if row["do_not_contact"] else "",
                account=account,
                job_title=escape_text(row["job_title"]),
                email=f'<a href="mailto:{email}">{email}</a>' if email else "",
                phone=phone,
                buying_role=escape_text(row["buying_role"]),
                preferred_channel=escape_text(row["preferred_channel"]),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 (every value is escaped above)
