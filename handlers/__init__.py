"""Routers, one per feature, built fresh by `get_routers()` so every dispatcher gets its own."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    broadcast,
    fallback,
    gmfy,
    invites,
    oauth,
    panel,
    preferences,
    relay,
    reports,
    rooms,
    signin,
)


def get_routers() -> list[Router]:
    """Feature routers in order; the catch-all fallback router is always last."""
    return [
        relay.members_router(),  # members' messages: most updates, so tried first
        rooms.router(),  # before signin: it takes /start room_<token>
        oauth.finish_router(),  # before signin: it takes /start oc_<nonce>
        signin.router(),
        relay.router(),  # every message that is not a command (only sign-in's contact and code come before)
        invites.router(),
        oauth.router(),
        preferences.router(),
        gmfy.router(),
        reports.router(),
        admin.router(),
        broadcast.router(),
        panel.router(),
        fallback.router(),  # catch-all: always last
    ]
