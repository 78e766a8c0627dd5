"""docker-compose and `make run` launch every role through the same entry point."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

from stack import dev, process
from stack.entry import ROLES, command

ROOT = Path(__file__).resolve().parent.parent


def test_compose_services_use_the_entry_point():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "stack.entry"]' in dockerfile
    roles = {}
    for name, service in compose["services"].items():
        if service.get("build"):
            roles[name] = service["command"]
    assert roles == {
        "migrate": ["migrate"],
        "api": ["api"],
        "worker": ["worker"],
        "beat": ["beat"],
        "flower": ["flower"],
        "sandbox": ["sandbox"],
    }
    assert set(roles) == set(ROLES)
    assert compose["services"]["sandbox"]["profiles"] == ["sandbox"]


def test_make_run_spawns_roles_through_the_entry_point():
    assert "RoleProcess(role, env)" in inspect.getsource(dev)
    assert '"-m", "stack.entry", "migrate"' in inspect.getsource(dev)
    assert '"-m", "stack.entry", self.role' in inspect.getsource(process)


def test_every_role_has_a_command():
    for role in ROLES:
        assert command(role)[0]
