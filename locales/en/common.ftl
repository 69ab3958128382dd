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
    <b>What I can do</b>
    <b>You</b>
    /me — your profile · /lang — language · /forget_me — delete your data
    /link — link an external account · /unlink — undo it
    <b>Invites</b>
    /invite — your code, link and QR · /redeem CODE — use a friend's code · /referrals — who joined with yours
    <b>Common chat</b>
    /join — enter, with the latest messages · /leave — leave · /nick NAME — your name in the chat
    /pause — hold messages · /resume — get them again · /unread — what you missed
    /delete — reply to your message to delete it everywhere · /report — reply to report a message
    /status — your limit, chats, warnings · /who — who is around
    /schedule 18:30 text (or in 10m text) — send later · /scheduled — your scheduled messages
    <b>Private chats and rooms</b>
    /dm NAME — write privately · /common — back to the common chat · /block, /unblock NAME
    /newroom TITLE — create a room · /rooms — your rooms: switch, manage, leave
    <b>Games</b>
    /profile — ratings and badges · /top — leaderboard · /challenge — a challenge's progress
flood-slow-down = 🐢 Slow down a little: too many messages at once. I'll listen again in a few seconds.
group-not-served = 👋 Hi! I only work in a private chat: write to me at @{ $bot }. Messages here stay here, so I'm leaving this group.
button-not-yours = This button isn't for you, or it has expired.
button-expired = This button has expired: the message it belonged to is gone. Nothing was changed.
button-done-message-gone = ✅ Done. The message with this button is gone, so I couldn't update it.
