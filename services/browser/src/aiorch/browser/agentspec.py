"""The browser agent's spec, published to the agent registry when the service starts."""

from aiorch.contracts import AgentSpec, ParameterSpec

SPEC = AgentSpec(
    name="browser",
    version="1.0.0",
    title="Web browser",
    description="Opens web pages in a headless browser: reads text, lists, tables and links, clicks, "
    "fills and submits forms, follows pages, takes screenshots.",
    accepts=[],
    material=["address"],
    missing="give the address of the page (https://…).",
    consumes=[],
    produces=["texts", "files"],
    parameters=[ParameterSpec(name="url", description="The page to open first.", from_request="url")],
    keywords={
        "en": ["http", "www", "website", "web", "page", "url", "browse", "open", "visit", "scrape", "crawl", "click",
               "login", "screenshot", "extract", "navigate", "site", "headline", "link", "log", "form", "button",
               "download"],
        "de": ["webseite", "öffne", "seite"],
        "fr": ["ouvre", "récupère"],
        "es": ["abre", "página", "extrae"],
    },
    typo_words=["screenshot", "scrape", "open", "website", "crawl"],
    examples={
        "en": [
            "open this web page",
            "take a screenshot of the website",
            "scrape the headlines from the site",
            "get the price of the product on the page",
            "log in to the website and read the balance",
            "crawl the blog and collect post titles",
            "fill the form on the page and submit it",
            "extract the table from the web page",
            "click the next button and read the captions",
            "visit the url and find the opening hours",
            "what does the page say",
            "download the list from the site",
        ],
        "de": ["öffne die Webseite"],
        "fr": ["ouvre le site web"],
        "es": ["abre la página web", "extrae la tabla de la página"],
    },
)
