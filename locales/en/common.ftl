unknown-command = I don't know that command. Send /help to see what I can do.
nothing-to-do = I'm not sure what to do with that. Send /help to see what I can do.
button-stale = This button is no longer active.
error-apology = Sorry, something went wrong on my side. Please try again in a moment.
error-generic = That didn't work. Please try again.
error-unknown-command = { unknown-command }
user-not-found = No user matches “{ $ref }”. Use a Telegram id, @username, phone or invite code.
admin-user-usage = Usage: /{ $command } &lt;telegram id | @username | phone | invite code&gt;
help-text-signed-out =
    <b>Welcome!</b> Sign in first: press “Share my phone number” below.{ $phone ->
        [1] {""}
            If your app cannot share a contact, send /phone +7XXXXXXXXXX and then the 6-digit code.
       *[0] {""}
    }
help-text =
    <b>What would you like to do?</b>

    💬 <b>Talk with everyone</b>
    /join — enter the common chat and see the latest messages · /leave — step out
    /who — who is around · /unread — what you missed · /pause, /resume — hold messages, get them again
    /schedule 18:30 text (or in 10m text) — send later · /scheduled — your scheduled messages
    /delete — reply to your own message to delete it everywhere

    🔒 <b>Talk to one person, or a small circle</b>
    /dm NAME — write privately · /common — back to the common chat
    /newroom TITLE — create an invite-only room · /rooms — your rooms: switch, manage, leave

    🎟 <b>Bring friends</b>
    /invite — your code, link and QR · /redeem CODE — use a friend's code · /referrals — who joined with yours

    🛡 <b>When something is wrong</b>
    /report — reply to a message to report it · /block, /unblock NAME — stop or allow someone's private messages

    ⚙️ <b>Make it yours</b>
    /nick NAME — your name in the chat · /lang — language · /timezone — your time zone
    /status — your time, limit, chats and warnings · /me — your profile
    /link, /unlink — an external account · /forget_me — delete your data

    🏆 <b>Play</b>
    /profile — ratings and badges · /top — leaderboard · /challenge — a challenge's progress
flood-slow-down = 🐢 Slow down a little: too many messages at once. What you send in the next few seconds won't be relayed; I'll tell you how much when you can write again.
group-not-served = 👋 Hi! I only work in a private chat: write to me at @{ $bot }. Messages here stay here, so I'm leaving this group.
button-not-yours = This button isn't for you, or it has expired.
button-expired = This button has expired: the message it belonged to is gone. Nothing was changed.
time-day = { $day ->
    [0] yesterday at { $time }
    [1] today at { $time }
   *[2] tomorrow at { $time }
}
time-date = { $date }, { $time }
unit-seconds = { $n } { $n ->
    [one] second
   *[other] seconds
}
unit-minutes = { $n } { $n ->
    [one] minute
   *[other] minutes
}
unit-hours = { $n } { $n ->
    [one] hour
   *[other] hours
}
unit-days = { $n } { $n ->
    [one] day
   *[other] days
}
unit-weeks = { $n } { $n ->
    [one] week
   *[other] weeks
}
flood-dropped = ✅ You can write again. { $count ->
    [one] { $count } message was
   *[other] { $count } messages were
} not relayed while you were slowed down: send again what matters.
button-done-message-gone = ✅ Done. The message with this button is gone, so I couldn't update it.
