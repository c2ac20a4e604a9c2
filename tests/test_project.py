import tomllib

from dfazoo.project import PYPROJECT, hub_org, project_url
from dfazoo.spec import get_recipe
from dfazoo.zoo.cards import render_card


def test_project_url_is_pyprojects_homepage_unless_overridden(monkeypatch):
    monkeypatch.delenv("DFAZOO_PROJECT_URL", raising=False)
    homepage = tomllib.loads(PYPROJECT.read_text())["project"]["urls"]["Homepage"]
    assert project_url() == homepage
    monkeypatch.setenv("DFAZOO_PROJECT_URL", "https://example.org/dfazoo")
    assert project_url() == "https://example.org/dfazoo"


def test_hub_org_argument_then_environment_then_default(monkeypatch):
    monkeypatch.delenv("DFAZOO_HUB_ORG", raising=False)
    assert hub_org() == "dfazoo"
    monkeypatch.setenv("DFAZOO_HUB_ORG", "myorg")
    assert hub_org() == "myorg"
    assert hub_org("other") == "other"


def test_card_links_the_project_url(monkeypatch):
    monkeypatch.setenv("DFAZOO_PROJECT_URL", "https://example.org/dfazoo")
    card = render_card(get_recipe("mlp-digits-dfa"), {"value": 95.0})
    assert "Part of [dfazoo](https://example.org/dfazoo)" in card
    assert "github.com/dfazoo" not in card
