"""Griffe extension: render the Sphinx roles of our docstrings as Markdown for mkdocstrings.

The provider's docstrings use Sphinx ``:param:`` style with roles such as ``:class:`Token```.
mkdocstrings parses the ``:param:`` fields itself but leaves the roles as literal text, so this
extension turns a role into inline code, linked (optionally, so a missing target is not an error)
when it names a fully qualified object of the provider. It also turns the reStructuredText
literal-block marker ``::`` at the end of a line into ``:`` (the indented block below stays code).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|data|attr|exc|obj):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(?<=\S)::$", re.MULTILINE)
_PACKAGE = "airflow_provider_mdsp."


def _render(match: re.Match[str]) -> str:
    short, target = match.group(1) == "~", match.group(2).strip()
    name = target.rsplit(".", 1)[-1] if short else target
    if target.startswith(_PACKAGE):
        return f'<autoref identifier="{target}" optional><code>{name}</code></autoref>'
    return f"`{name}`"


def convert(text: str) -> str:
    """Return docstring text with Sphinx roles and ``::`` markers rendered as Markdown.

    :param text: the raw docstring.
    """
    return _LITERAL_MARKER.sub(":", _ROLE.sub(_render, text))


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring once it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert the roles in ``obj``'s docstring.

        :param obj: the loaded object.
        :param kwargs: other hook arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
