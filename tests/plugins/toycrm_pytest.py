"""``pytest -p tests.plugins.toycrm_pytest``: registers the toy CRM plugin for one pytest run."""

from talkqa.systems import registry
from tests.plugins.toycrm import plugin

registry.register(plugin)
