"""Griffe extension: make the provider's Sphinx-style docstrings render well with mkdocstrings.

1. Roles. The docstrings use roles such as ``:class:`Token```; mkdocstrings parses the ``:param:``
   fields itself but leaves roles as literal text, so a role becomes inline code, linked
   (optionally, so a missing target is not an error) when it names a fully qualified object of the
   provider. The reStructuredText literal-block marker ``::`` at a line end becomes ``:``.
2. Pass-through parameters. An operator documents parameters it hands to its base class through
   ``**kwargs`` (``mdsp_conn_id``, ``deferrable``). They are real keyword arguments, so they are
   added to the rendered signature, with the default and annotation of the base class.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|data|attr|exc|obj):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(?<=\S)::$", re.MULTILINE)
_PARAM = re.compile(r"^:param\s+(?:[^:\s]+\s+)?(\w+):", re.MULTILINE)
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


def _classes(module: griffe.Module) -> list[griffe.Class]:
    found: list[griffe.Class] = []
    for member in module.members.values():
        if member.is_alias:
            continue
        if isinstance(member, griffe.Module):
            found.extend(_classes(member))
        elif isinstance(member, griffe.Class):
            found.append(member)
    return found


def _inherited_parameter(cls: griffe.Class, name: str) -> griffe.Parameter | None:
    for base in cls.mro():
        init = base.members.get("__init__")
        if isinstance(init, griffe.Function) and name in init.parameters:
            return init.parameters[name]
    return None


def add_passed_through_parameters(cls: griffe.Class) -> None:
    """Add to ``cls.__init__`` the documented parameters it accepts through ``**kwargs``.

    :param cls: a loaded class.
    """
    init = cls.members.get("__init__")
    if cls.docstring is None or not isinstance(init, griffe.Function) or init.is_alias:
        return
    params = list(init.parameters)
    if not params or params[-1].kind is not griffe.ParameterKind.var_keyword:
        return
    for name in _PARAM.findall(cls.docstring.value):
        if name in init.parameters:
            continue
        try:
            inherited = _inherited_parameter(cls, name)
        except (griffe.AliasResolutionError, griffe.CyclicAliasError, ValueError):
            inherited = None
        if inherited is None:
            continue
        added = griffe.Parameter(
            name, annotation=inherited.annotation, kind=griffe.ParameterKind.keyword_only, default=inherited.default
        )
        params.insert(len(params) - 1, added)
    init.parameters = griffe.Parameters(*params)


class SphinxRoles(griffe.Extension):
    """Rewrite docstrings once loaded; complete operator signatures once the package is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert the roles in ``obj``'s docstring.

        :param obj: the loaded object.
        :param kwargs: other hook arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Add the pass-through parameters of every class of the package.

        :param pkg: the loaded package.
        :param kwargs: other hook arguments, unused.
        """
        for cls in _classes(pkg):
            add_passed_through_parameters(cls)
