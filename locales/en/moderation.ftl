## Complaints and bans (SPEC 6)

cmd-report = Report a member (reply to their message)
cmd-ban = Ban: /ban user [30m|4h|2d] [reason]
cmd-unban = Lift a ban
cmd-warn = Warn a member
cmd-complaints = Open complaints
cmd-user = A member's card
cmd-stats = Statistics
cmd-audit = Moderation log
cmd-mod = Make a member a moderator
cmd-unmod = Take moderator rights away
cmd-code = A member's invite code
cmd-whoinvited = Who invited a member

# The reporter
report-usage = Reply <code>/report</code> to a member's message to report it, or send <code>/report @username</code>.
report-choose-reason = Why are you reporting this? Moderators will see the message; the member will not learn who reported.
report-reason-spam = 🗑 Spam
report-reason-abuse = 🤬 Abuse
report-reason-other = ❓ Other
report-reason-cancel = Cancel
report-accepted = Thank you — the moderators have your report.
report-cancelled = Report cancelled.
report-member-unknown = I don't know a member called “{ $ref }”. Reply <code>/report</code> to their message, press ⚠️ Report under it, or send <code>/report @username</code> or their nickname.

# The reported member (never told who reported)
moderation-warned-report = ⚠️ A member reported your message ({ $reason ->
    [spam] spam
    [abuse] abuse
   *[other] other
}). This is warning { $count } of { $max }; at { $max } you are banned from writing for a while.
moderation-warned = ⚠️ A moderator warned you{ $has_reason ->
    [0] {""}
   *[other] : { $reason }
}. This is warning { $count } of { $max }; at { $max } you are banned from writing for a while.
moderation-banned-auto = ⛔ You received too many warnings and can't send messages until { $until }.
moderation-banned = ⛔ A moderator banned you until { $until }. Reason: { $reason }.
moderation-unbanned = ✅ A moderator lifted your ban. You can write again.
moderation-ban-over = ✅ Your ban is over. You can write again.

# Refusals
moderation-you-are-banned = You are banned and can't send messages until { $until }.
moderation-report-self = You can't report yourself.
moderation-report-duplicate = You have already reported this member in the last 24 hours. You can report them again in { $hours } { $hours ->
    [one] hour
   *[other] hours
}.
moderation-report-reason-unknown = Choose one of the reasons: spam, abuse or other.
moderation-not-relayed = That is not a member's message (or it is no longer available). Reply to a message from the chat.
moderation-report-not-found = That report no longer exists.
moderation-report-handled = This report was already handled ({ $status ->
    [confirmed] confirmed
    [dismissed] dismissed
   *[other] { $status }
} by { $by }). Nothing was changed.
moderation-cannot-moderate = You can't do that to this member (yourself or an admin).
moderation-already-banned = This member is already banned until { $until }. Nothing was changed.
moderation-not-banned = This member is not banned. Nothing was changed.
moderation-invalid-duration = “{ $value }” is not a duration. Use 30m, 4h, 2d or 1w (or 30 min, 4 hours, 2 days; Russian units work too).
moderation-already-moderator = { $name } is already a moderator (or an admin).
moderation-not-moderator = { $name } is not a moderator.
moderation-nothing-to-delete = This report has no message to delete.
moderation-delete-unavailable = Deleting messages is not available yet.
moderation-message-already-deleted = That message was already deleted. Nothing was changed.
moderation-card-outdated = This card is out of date (someone acted meanwhile). Nothing was changed; open /user again.

# Report cards (admin chat, /complaints)
report-card =
    🚩 <b>Report #{ $id }</b> · { $reason }
    About: <b>{ $target }</b> (#{ $target_id })
    From: { $reporter } (#{ $reporter_id })
    When: { $date }
report-card-excerpt = Message: <i>{ $excerpt }</i>
report-card-warnings = Active warnings now: { $count }
report-card-auto-ban = ⛔ Banned automatically until { $until }
report-card-handled = { $status ->
    [confirmed] ✅ Confirmed
    [dismissed] ✖️ Dismissed
   *[other] { $status }
} by { $by }
report-card-deleted = 🗑 The message was deleted everywhere.
report-btn-ban = ⛔ Ban
report-btn-warn = ⚠️ Warn
report-btn-dismiss = ✖️ Dismiss
report-btn-del = 🗑 Delete message
report-done-ban = { $name } is banned.
report-done-warn = { $name } is warned.
report-done-dismiss = Report dismissed.
report-done-del = Message deleted everywhere.

# Admin commands
admin-ban-usage = Usage: /ban &lt;user&gt; [30m | 4h | 2d] [reason] — or reply /ban to a member's message.
admin-banned = ⛔ { $name } (#{ $id }) is banned for { $duration }, until { $until }.
admin-unbanned = ✅ { $name } (#{ $id }) is no longer banned.
admin-warned = ⚠️ { $name } (#{ $id }) is warned: { $count } of { $max }.
admin-warned-banned = ⚠️ { $name } (#{ $id }) is warned and, with that, banned until { $until }.
admin-complaints-empty = No open complaints. 🎉
admin-complaints-title = <b>Open complaints: { $total }</b> (page { $page }/{ $pages })
admin-complaints-line = #{ $id } · { $target } (#{ $target_id }) · { $reason } · { $date }
admin-user-card =
    👤 <b>{ $name }</b> (#{ $id })
    Telegram: { $telegram_id } · { $username }
    Phone: { $phone }
    Role: { $role }
    Warnings: { $warnings } of { $max } (all time { $warnings_total })
    Reports against: { $reports } · Bans: { $bans }
    Banned until: { $ban }
admin-role-admin = admin
admin-role-moderator = moderator
admin-role-member = member
admin-btn-ban = ⛔ Ban
admin-btn-unban = ✅ Unban
admin-btn-warn = ⚠️ Warn
admin-btn-mod = 🛡 Make moderator
admin-btn-unmod = Remove moderator
admin-done-ban = { $name } is banned.
admin-done-unban = { $name } is no longer banned.
admin-done-warn = { $name } is warned.
admin-done-mod = { $name } is a moderator now.
admin-done-unmod = { $name } is no longer a moderator.
admin-mod-granted = 🛡 { $name } (#{ $id }) is a moderator now.
admin-mod-revoked = { $name } (#{ $id }) is no longer a moderator.
admin-you-are-moderator = 🛡 You are a moderator now. Your command menu has the moderation commands.
admin-you-are-not-moderator = You are no longer a moderator.
admin-stats =
    📊 <b>Statistics</b>
    Members: { $users } (signed in: { $signed_in })
    Banned now: { $banned }
    Open complaints: { $open }
    Last 24 hours: { $reports } { $reports ->
        [one] report
       *[other] reports
    }, { $warnings } { $warnings ->
        [one] warning
       *[other] warnings
    }
    Moderators: { $moderators }
admin-audit-empty = The moderation log is empty.
admin-audit-title = <b>Moderation log: { $total }</b> (page { $page }/{ $pages })
admin-audit-bot = bot
admin-audit-line = { $date } · { $actor }{ $actor_id ->
    [0] {""}
   *[other] {" "}(#{ $actor_id })
} { $action ->
    [report] reported
    [warn] warned
    [ban] banned
    [unban] unbanned
    [ban_expired] lifted the expired ban of
    [dismiss] dismissed a report about
    [delete_message] deleted a message of
    [mod] made moderator
    [unmod] removed moderator
    [lookup] looked up
    [broadcast] sent a broadcast to
   *[other] { $action }
} { $target } (#{ $target_id }){ $has_duration ->
    [0] {""}
   *[other] {" "}for { $duration }
}{ $has_reason ->
    [0] {""}
   *[other] {" "}— { $reason }
}

# /broadcast
cmd-broadcast = Message everyone: /broadcast text
broadcast-usage = How to use: <code>/broadcast your announcement</code>. Formatting is kept; you'll see a preview first.
broadcast-empty = The announcement is empty.
broadcast-too-long = The announcement is too long: { $length } { $length ->
    [one] character
   *[other] characters
}, at most { $limit }.
broadcast-html-invalid = Telegram would not take this text: { $tag } is not one of its tags, or is closed out of order. Nothing was sent.
broadcast-not-found = This broadcast is not yours or no longer exists.
broadcast-already-handled = This broadcast was already { $status ->
    [cancelled] cancelled
   *[other] sent
}; nothing changed.
broadcast-preview = 📣 <b>Broadcast preview</b> — it goes to { $count } { $count ->
    [one] member
   *[other] members
}:
broadcast-btn-send = 📣 Send to { $count }
broadcast-btn-cancel = ✖️ Cancel
broadcast-started = Sending…
broadcast-cancelled = ✖️ Broadcast cancelled; nothing was sent.
broadcast-nobody = 📣 Nobody else to send it to.
broadcast-progress = 📣 <b>Sending the broadcast…</b>
    Delivered: { $delivered } of { $total }
    Blocked the bot: { $blocked }
    Failed: { $failed }
broadcast-finished = 📣 <b>Broadcast finished</b>
    Delivered: { $delivered } of { $total }
    Blocked the bot: { $blocked }
    Failed: { $failed }
