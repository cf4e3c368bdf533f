"""The fixed vocabulary of the synthetic org: countries, names, browsers, objects.

Everything random in the sandbox picks from these tuples with a seeded
generator, so changing a tuple changes the data for every seed.
"""

from __future__ import annotations

from typing import NamedTuple


class Country(NamedTuple):
    """A home country: its code, continent, standard UTC offset and public-looking /8s."""

    code: str
    continent: str
    utc_offset: float
    octets: tuple[int, ...]


# Fixed standard offsets (no daylight saving): a person's working hours are
# stable in UTC all year, which keeps "off-hours" unambiguous in the answer key.
COUNTRIES: tuple[Country, ...] = (
    Country("DE", "EU", 1.0, (84, 91, 93)),
    Country("GB", "EU", 0.0, (81, 86, 109)),
    Country("FR", "EU", 1.0, (78, 82, 90)),
    Country("NL", "EU", 1.0, (77, 83, 145)),
    Country("ES", "EU", 1.0, (79, 88, 95)),
    Country("PL", "EU", 1.0, (83, 89, 178)),
    Country("SE", "EU", 1.0, (78, 81, 90)),
    Country("IE", "EU", 0.0, (86, 87, 89)),
    Country("US", "NA", -5.0, (24, 67, 98)),
    Country("US", "NA", -8.0, (50, 71, 108)),
    Country("CA", "NA", -5.0, (24, 70, 99)),
    Country("MX", "NA", -6.0, (187, 189, 201)),
    Country("BR", "SA", -3.0, (177, 179, 187)),
    Country("AR", "SA", -3.0, (181, 186, 190)),
    Country("IN", "AS", 5.5, (49, 106, 117)),
    Country("SG", "AS", 8.0, (101, 116, 175)),
    Country("JP", "AS", 9.0, (106, 126, 133)),
    Country("AU", "OC", 10.0, (1, 49, 101)),
)

# Where most of the staff sit: the first entries of COUNTRIES are likelier.
COUNTRY_WEIGHTS: tuple[float, ...] = (
    8, 5, 3, 3, 2, 2, 1, 1, 6, 3, 2, 1, 2, 1, 3, 1, 1, 1,
)  # fmt: skip

FIRST_NAMES: tuple[str, ...] = (
    "Lena", "Omar", "Aiko", "Mateus", "Priya", "Jonas", "Chloé", "Tomasz", "Sofia", "Liam",
    "Amara", "Diego", "Freya", "Hiroshi", "Isabel", "Kwame", "Maja", "Noah", "Ines", "Ravi",
    "Elif", "Lucas", "Nora", "Pablo", "Saanvi", "Emil", "Greta", "Yusuf", "Clara", "Mei",
    "Oskar", "Leila", "Marco", "Hannah", "Tariq", "Julia", "Arjun", "Zoe", "Felix", "Alma",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Vogel", "Haddad", "Tanaka", "Silva", "Nair", "Becker", "Martin", "Nowak", "Rossi",
    "Walsh", "Okafor", "García", "Lindqvist", "Sato", "Moreau", "Mensah", "Kowalski", "Evans",
    "Costa", "Iyer", "Demir", "Ferreira", "Jansen", "López", "Kapoor", "Berg", "Fischer",
    "Aziz", "Dubois", "Chen", "Nielsen", "Rahman", "Bianchi", "Schmidt", "Khan", "Meyer",
)  # fmt: skip

BROWSERS: tuple[str, ...] = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)

BOT_AGENT = "python-httpx/0.28.1"
BOT_IP = "2001:db8:85a3::8a2e:370:7334"
# The automation user runs in a US data centre on UTC, around the clock.
BOT_HOME = Country("US", "NA", 0.0, ())

ASSISTANT_NAMES: tuple[str, ...] = (
    "Returns Helper", "Billing FAQ", "Order Tracker", "Onboarding Guide", "IT Helpdesk",
    "Sales Qualifier", "Warranty Desk", "Shipping Bot", "HR Questions", "Product Expert",
    "Store Locator", "Booking Assistant", "Refund Desk", "Partner Support", "Docs Search",
    "Churn Saver", "Renewals Desk", "Lead Router",
)  # fmt: skip

WORKFLOW_NAMES: tuple[str, ...] = (
    "Refund approval", "Escalate VIP", "Tag billing tickets", "Nightly CSAT digest",
    "Route to sales", "Close stale chats", "Translate inbound", "Warranty check",
    "Order lookup", "Notify on-call", "Lead enrichment", "Weekly export",
)  # fmt: skip

CONNECTIONS: tuple[tuple[str, str], ...] = (
    ("SLACK", "#support-alerts"), ("SLACK", "#sales-leads"), ("ZENDESK", "Zendesk EU"),
    ("HUBSPOT", "HubSpot CRM"), ("WHATSAPP", "WhatsApp Business"), ("EMAIL", "support@ inbox"),
    ("SHOPIFY", "Shopify store"), ("TELEGRAM", "Telegram channel"), ("INTERCOM", "Intercom"),
    ("SALESFORCE", "Salesforce"), ("NOTION", "Help center"), ("WEBHOOK", "Billing webhook"),
)  # fmt: skip

BROADCAST_NAMES: tuple[str, ...] = (
    "Holiday hours", "Spring sale", "Maintenance window", "New returns policy",
    "Black Friday", "Survey invite", "Price update", "Shipping delays",
)  # fmt: skip

WELCOME_BANNERS: tuple[str, ...] = (
    "Hi! How can I help?",
    "Welcome back — ask me anything.",
    "Questions about your order? Start here.",
)

SUGGESTED_MESSAGES: tuple[str, ...] = (
    "Start a return", "Where is my refund?", "Track my order", "Talk to a person",
    "Update billing details", "Reset my password",
)  # fmt: skip

WORK_ROLES: tuple[str, ...] = ("DEVELOPER", "MEMBER")
