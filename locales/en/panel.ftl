## The staff web panel (SPEC 10)

cmd-panel = Web panel: a sign-in link (/panel logout ends it)
panel-link = 🔐 Your sign-in link to the staff panel. It works once, for { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }; don't forward it:
    { $url }
    Sign out everywhere: <code>/panel logout</code>
panel-logged-out = { $count ->
    [0] You had no open panel sessions.
    [one] Signed out of the panel (1 session).
   *[other] Signed out of the panel ({ $count } sessions).
}
panel-off = The web panel is turned off on this bot (PANEL_ENABLED, WEB_PORT).
panel-link-invalid = This sign-in link is not valid: it was used already, it expired, or it was never ours. Send /panel to the bot for a new one.
panel-signed-out = Send /panel to the bot in Telegram to get a sign-in link.
panel-forbidden = Your role does not allow this. Nothing was changed.
panel-staff-only = The panel is for moderators and admins.

panel-brand = Community panel
panel-title = Staff panel
panel-login-title = Sign in to the staff panel
panel-login-text = You opened a one-time sign-in link from the bot. Press the button to sign in on this device; the session lasts 12 hours.
panel-login-button = Sign in
panel-signed-out-title = Signed out
panel-open-again = Open the panel
panel-error-title = Not done
panel-sign-out = Sign out
panel-role-admin = admin
panel-role-moderator = moderator
panel-role-member = member

panel-nav-overview = Overview
panel-nav-complaints = Complaints
panel-nav-members = Members
panel-nav-audit = Audit log
panel-nav-broadcast = Broadcast
panel-nav-settings = Settings

panel-fig-members = members
panel-fig-active-today = active today
panel-fig-active-week = active this week
panel-fig-bans = bans in force
panel-fig-open-reports = open complaints
panel-chart-messages = Messages per hour, last 7 days ({ $total })
panel-chart-signups = Sign-ups per day, last 30 days ({ $total })
panel-chart-invites = Invites redeemed per day, last 30 days ({ $total })
panel-chart-reports = Complaints per day, last 30 days ({ $total })
panel-live-title = Delivery now
panel-live-queue = messages waiting
panel-live-rate = sends per second
panel-live-oldest = s the oldest has waited
panel-live-429 = 429 answers in the last hour
panel-live-gmfy = GMFY events not sent yet

panel-complaints-title = Open complaints: { $total }
panel-complaints-empty = No open complaints. 🎉
panel-complaint-about = About
panel-complaint-by = reported by
panel-complaint-reporters = { $count ->
    [one] 1 member complains
   *[other] { $count } members complain
}
panel-message-deleted = The message was deleted everywhere.
panel-message-media = [{ $kind } without a caption]
panel-history = Warnings: { $warnings } of { $max } (all time { $total }), complaints: { $reports }, bans: { $bans }
panel-banned-until = Banned until { $until }
panel-not-banned = Not banned.
panel-ban-duration = Ban duration
panel-ban-default = default ({ $duration })
panel-reason = Reason (optional)
panel-btn-warn = Warn
panel-btn-ban = Ban
panel-btn-unban = Lift the ban
panel-btn-dismiss = Dismiss
panel-btn-delete = Delete the message everywhere
panel-btn-mod = Make moderator
panel-btn-unmod = Take moderator rights
panel-done-warn = Warning given.
panel-done-ban = Banned.
panel-done-unban = Ban lifted.
panel-done-dismiss = Complaint dismissed.
panel-done-delete = Message deleted everywhere.
panel-done-mod = Now a moderator.
panel-done-unmod = No longer a moderator.

panel-search = Search
panel-search-hint = Nickname, #id, Telegram id, @username or invite code
panel-search-hint-admin = Nickname, #id, Telegram id, @username, invite code or +phone
panel-search-none = Nobody found.
panel-col-name = Name
panel-col-username = Username
panel-col-phone = Phone
panel-col-joined = Signed in
panel-col-seen = Last seen
panel-col-code = Invite code
panel-col-chats = Chats
panel-col-role = Role
panel-col-time = Time (UTC)
panel-col-details = Details
panel-chats = { $common ->
    [1] in the common chat
   *[other] not in the common chat
}, rooms: { $rooms }, messages: { $messages }
panel-profile = Profile
panel-moderation = Moderation
panel-invites = Invited by and invited
panel-invited-by-nobody = joined without an invite
panel-more = …and { $count } more
panel-warnings-bans = Bans and warnings
panel-ban = ban
panel-warning = warning
panel-revoked = revoked

panel-gmfy-loading = asking GMFY…
panel-gmfy-nothing = No ratings or points yet.
panel-gmfy-rating = { $name }: { $value }, place { $place }
panel-gmfy-rating-unranked = { $name }: { $value }
panel-gmfy-balance = { $resource }: { $amount }
panel-gmfy-badges = { $count ->
    [one] 1 badge
   *[other] { $count } badges
}

panel-audit-title = Audit log: { $total }
panel-audit-actor = Who (#id)
panel-audit-action = Action
panel-audit-target = Whom (#id)
panel-audit-any = any
panel-audit-filter = Filter
panel-audit-csv = Export CSV
panel-audit-bot = the bot

panel-broadcast-text = Message (Telegram HTML: <b>, <i>, <u>, <s>, <a href>, <code>, <pre>, <blockquote>, <tg-spoiler>)
panel-broadcast-audience = Audience
panel-audience-all = Everyone signed in
panel-audience-common = Members of the common chat
panel-audience-room = Room “{ $title }”
panel-broadcast-preview = Preview
panel-broadcast-audience-size = { $count ->
    [one] It goes to 1 member.
   *[other] It goes to { $count } members.
}
panel-broadcast-html-warning = Telegram will refuse this text: check { $tag }.
panel-broadcast-send = Send
panel-broadcast-recent = Recent broadcasts
panel-broadcast-cancel = Cancel the broadcast
panel-broadcast-status-draft = Draft.
panel-broadcast-status-sending = Sending…
panel-broadcast-status-done = Finished.
panel-broadcast-status-cancelled = Cancelled.
panel-broadcast-counts = Delivered { $delivered }, blocked the bot { $blocked }, failed { $failed }, cancelled { $cancelled } — of { $total }

panel-settings-limit = Messages per period (for everyone)
panel-settings-limit-now = Now: { $limit } { $limit ->
    [one] message
   *[other] messages
} per { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}.
panel-settings-messages = Messages
panel-settings-minutes = per minutes
panel-settings-save = Save
panel-settings-saved = Saved. The new limit applies from now on.
panel-settings-admins-only = Only admins change the limits.
