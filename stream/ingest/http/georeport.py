"""GeoReport v2 documents in both formats: the JSON list every endpoint answers, or its XML.

Roots and elements follow the GeoReport v2 XML examples
(https://wiki.open311.org/GeoReport_v2): ``services/service``,
``service_definition``, ``service_requests/request`` and ``errors/error``. A
``None`` is an empty element, a list an element per item, booleans are
``true``/``false``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import orjson

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json", "xml": "text/xml"}
#: What each kind of answer is called in XML: (root, element per entry); element None = the root is the entry.
ROOTS: dict[str, tuple[str, str | None]] = {
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _fill(parent: ET.Element, doc: Mapping[str, object]) -> None:
    for name, value in doc.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            for entry in value:
                each = ET.SubElement(child, name[:-1] if name.endswith("s") else "item")
                if isinstance(entry, Mapping):
                    _fill(each, entry)
                else:
                    each.text = str(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def to_xml(kind: str, docs: Sequence[Mapping[str, object]]) -> bytes:
    root_name, element = ROOTS[kind]
    root = ET.Element(root_name)
    if element is None:
        _fill(root, docs[0] if docs else {})
    else:
        for doc in docs:
            _fill(ET.SubElement(root, element), doc)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render(kind: str, docs: Sequence[Mapping[str, object]], fmt: str) -> tuple[bytes, str]:
    """The body and content type of an answer; JSON is the list itself (one object for a service definition)."""
    if fmt == "xml":
        return to_xml(kind, docs), CONTENT_TYPES["xml"]
    payload: object = docs[0] if kind == "service_definition" and docs else list(docs)
    return orjson.dumps(payload), CONTENT_TYPES["json"]
