"""The contacts directory: departments, the grid code and hazards they answer for, their contacts.

Loaded from a YAML file (``AMUR_NOTIFY_CONTACTS``; the bundled sample is
``stream/incidents/data/contacts.yaml``). A department answers for a grid code's subtree
and a set of hazards; drills reach only ``drill_contacts``, real incidents
only ``contacts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from stream.errors import ConfigError
from stream.incidents.grid import chain_of_command, grid_path
from stream.incidents.state import Incident
from stream.schemas import Hazard

SAMPLE_CONTACTS = Path(__file__).resolve().parent.parent / "data" / "contacts.yaml"
CHANNELS = ("webhook", "robot")
ROBOT_STYLES = ("dingtalk", "wecom")


@dataclass(frozen=True)
class Contact:
    contact_id: str
    """``<department id>/<name>``, unique in the directory."""
    channel: str
    url: str
    style: str = "dingtalk"
    """Robot JSON dialect: dingtalk (markdown title+text) or wecom (markdown content)."""


@dataclass(frozen=True)
class Department:
    department_id: str
    name: str
    grid_code: str
    hazards: frozenset[Hazard]
    contacts: tuple[Contact, ...]
    drill_contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class Directory:
    departments: tuple[Department, ...]

    def contact(self, contact_id: str) -> Contact | None:
        for department in self.departments:
            for contact in department.contacts + department.drill_contacts:
                if contact.contact_id == contact_id:
                    return contact
        return None

    def responsible(self, code: str, hazard: Hazard, drill: bool) -> tuple[Department, ...]:
        """Departments answering for ``hazard`` at ``code``, else at the nearest level above that has any."""
        for level_code in reversed(grid_path(code)):
            found = tuple(d for d in self.departments if d.grid_code == level_code and hazard in d.hazards
                          and (d.drill_contacts if drill else d.contacts))
            if found:
                return found
        return ()

    def recipients(self, incident: Incident, reason: str) -> Sequence[tuple[str, str]]:
        """(contact id, channel) to notify about ``incident`` for ``reason`` (raised, escalated, assigned)."""
        if reason == "assigned":
            departments = tuple(d for d in self.departments if d.department_id == incident.assignee)
        else:
            chain = chain_of_command(incident.place)
            departments = self.responsible(chain[min(incident.escalation_level, len(chain) - 1)],
                                           incident.hazard, incident.drill)
        contacts = [c for d in departments for c in (d.drill_contacts if incident.drill else d.contacts)]
        return [(c.contact_id, c.channel) for c in contacts]


def _contacts(department_id: str, rows: list[dict], where: str) -> tuple[Contact, ...]:
    out = []
    for row in rows or []:
        channel = row.get("channel")
        style = row.get("style", "dingtalk")
        if channel not in CHANNELS or style not in ROBOT_STYLES or not row.get("url") or not row.get("name"):
            raise ConfigError(f"{where}: contact {row!r} of {department_id} needs name, url, "
                              f"channel in {CHANNELS} and style in {ROBOT_STYLES}")
        out.append(Contact(f"{department_id}/{row['name']}", channel, str(row["url"]), style))
    return tuple(out)


def load_directory(path: Path | None = None) -> Directory:
    """Read a contacts file; errors name the file and the bad entry."""
    path = path or SAMPLE_CONTACTS
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"contacts file {path}: {exc}") from None
    departments = []
    for row in doc.get("departments", []):
        try:
            hazards = frozenset(Hazard) if row.get("hazards") == "all" else frozenset(Hazard(h) for h in row["hazards"])
            department_id, code = str(row["id"]), str(row["grid_code"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: department {row!r}: {exc}") from None
        departments.append(Department(department_id, str(row.get("name", department_id)), code, hazards,
                                      _contacts(department_id, row.get("contacts"), str(path)),
                                      _contacts(department_id, row.get("drill_contacts"), str(path))))
    return Directory(tuple(departments))
