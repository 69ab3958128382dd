"""/profile, /top [rating], /challenge [id] and the admin /gmfy: GMFY achievements and leaderboards."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Texts
from handlers.filters import IsAdmin
from services.container import Services
from services.gmfy.client import GmfyUser
from services.gmfy.service import AdminStatus, ChallengeView, TopPage
from storage.models import User


class TopNav(CallbackData, prefix="gt"):
    rating: str
    page: int


def router() -> Router:
    r = Router(name="gmfy")
    r.message.register(profile, Command("profile"))
    r.message.register(top, Command("top"))
    r.callback_query.register(top_page, TopNav.filter())
    r.message.register(challenge, Command("challenge"))
    r.message.register(admin_status, Command("gmfy"), IsAdmin())
    return r


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def _profile_view(t: Texts, data: GmfyUser) -> str:
    parts: list[str] = [t("gmfy-profile-title")]
    if data.user_ratings:
        parts.append(t("gmfy-profile-ratings"))
        for r in data.user_ratings:
            name = r.name or r.rating_id or "?"
            if r.position is not None:
                parts.append(t("gmfy-profile-rating-line", name=name, value=_number(r.value), place=r.position))
            else:
                parts.append(t("gmfy-profile-rating-line-unranked", name=name, value=_number(r.value)))
    if data.user_challenges:
        parts.append(t("gmfy-profile-challenges"))
        for c in data.user_challenges:
            parts.append(
                t(
                    "gmfy-profile-challenge-line",
                    name=c.name or c.challenge_id or "?",
                    progress=_number(c.progress),
                    steps=len(c.passed_steps),
                )
            )
    if data.user_badges:
        parts.append(t("gmfy-profile-badges"))
        for b in data.user_badges:
            parts.append(t("gmfy-profile-badge-line", name=b.name or b.badge_id or "?", count=b.count or 1))
    if data.user_account_balances:
        parts.append(t("gmfy-profile-balances"))
        for a in data.user_account_balances:
            parts.append(t("gmfy-profile-balance-line", resource=a.resource_key, amount=_number(a.amount)))
    if len(parts) == 1:
        parts.append(t("gmfy-profile-empty"))
    return "\n".join(parts)


async def profile(message: Message, user: User, services: Services, t: Texts) -> None:
    await message.answer(_profile_view(t, await services.gmfy.profile(user)))


def _top_view(t: Texts, page: TopPage) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [t("gmfy-top-title", name=page.title or page.rating_id, page=page.page + 1)]
    if not page.entries:
        lines.append(t("gmfy-top-empty"))
    for e in page.entries:
        key = "gmfy-top-line-mine" if e.mine else "gmfy-top-line"
        lines.append(t(key, place=e.place, name=e.name or t.plain("gmfy-someone"), value=_number(e.value)))
    if page.my_place is not None and page.my_place.position is not None:
        lines.append(t("gmfy-top-my-place", place=page.my_place.position, value=_number(page.my_place.value)))
    else:
        lines.append(t("gmfy-top-not-ranked"))
    row: list[InlineKeyboardButton] = []
    if page.page > 0:
        row += _nav(t.plain("gmfy-btn-prev"), page.rating_id, page.page - 1)
    if page.has_next:
        row += _nav(t.plain("gmfy-btn-next"), page.rating_id, page.page + 1)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


def _nav(label: str, rating: str, page: int) -> list[InlineKeyboardButton]:
    """A page button, or none when this rating id cannot fit in callback data (64 bytes, no ':')."""
    try:
        data = TopNav(rating=rating, page=page).pack()
    except ValueError:
        return []
    return [InlineKeyboardButton(text=label, callback_data=data)]


async def top(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    text, markup = _top_view(t, await services.gmfy.top(user, command.args, 0))
    await message.answer(text, reply_markup=markup)


async def top_page(query: CallbackQuery, callback_data: TopNav, user: User, services: Services, t: Texts) -> None:
    text, markup = _top_view(t, await services.gmfy.top(user, callback_data.rating, callback_data.page))
    await query.answer()
    if isinstance(query.message, Message) and query.message.text != text:
        await query.message.edit_text(text, reply_markup=markup)


def _challenge_view(t: Texts, view: ChallengeView) -> str:
    lines = [t("gmfy-challenge-title", name=view.title or view.challenge_id)]
    if not view.entries:
        lines.append(t("gmfy-challenge-empty"))
    for e in view.entries:
        key = "gmfy-challenge-line-mine" if e.mine else "gmfy-challenge-line"
        lines.append(t(key, place=e.place, name=e.name or t.plain("gmfy-someone"), progress=_number(e.progress)))
    if view.mine is not None:
        lines.append(t("gmfy-challenge-mine", progress=_number(view.mine.progress), steps=len(view.mine.passed_steps)))
    else:
        lines.append(t("gmfy-challenge-not-joined"))
    return "\n".join(lines)


async def challenge(message: Message, command: CommandObject, user: User, services: Services, t: Texts) -> None:
    await message.answer(_challenge_view(t, await services.gmfy.challenge(user, command.args)))


def _status_view(t: Texts, status: AdminStatus) -> str:
    lines = [t("gmfy-admin-title")]
    if status.version is not None:
        lines.append(t("gmfy-admin-version", version=status.version.version))
    else:
        lines.append(t("gmfy-admin-version-error", error=status.version_error or "?"))
    oldest = t.moment(status.outbox.oldest_pending_at) if status.outbox.oldest_pending_at else "—"
    lines.append(t("gmfy-admin-outbox", pending=status.outbox.pending, failed=status.outbox.failed, oldest=oldest))
    last_error = status.last_error or status.outbox.last_error
    if last_error:
        when = t.moment(status.last_error_at) if status.last_error_at else "—"
        lines.append(t("gmfy-admin-last-error", error=last_error[:500], when=when))
    else:
        lines.append(t("gmfy-admin-no-error"))
    return "\n".join(lines)


async def admin_status(message: Message, services: Services, t: Texts) -> None:
    await message.answer(_status_view(t, await services.gmfy.admin_status()))
