"""The web pages: server-rendered HTML shells (Jinja2) and small ES modules that read the JSON API."""
