"""The staff web panel (issue 21): aiohttp views, templates and static files, mounted at /panel by
bot/server.py. Rules and permissions live in services/panel.py."""
