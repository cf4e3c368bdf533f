"""A synthetic Invent organisation and a local HTTP server speaking Invent's API.

>>> from auditlab.sandbox import generate_org, serve
>>> with serve(days=30) as sandbox:
...     len(sandbox.org.entries) > 1000
True
"""

from auditlab.sandbox.generate import SyntheticOrg, generate_org
from auditlab.sandbox.incidents import Incident
from auditlab.sandbox.people import Person
from auditlab.sandbox.server import Sandbox, Stats, serve

__all__ = ["Incident", "Person", "Sandbox", "Stats", "SyntheticOrg", "generate_org", "serve"]
