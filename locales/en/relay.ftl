relay-btn-dm = 💬 Reply privately
relay-btn-dm-name = 💬 { $name }
relay-btn-block = 🚫 Block
relay-btn-report = ⚠️ Report
relay-btn-common = 💬 Common chat
relay-btn-join-yes = ✅ Join the common chat
relay-btn-join-no = Not now
relay-btn-cancel = ✖ Cancel { $n }
relay-placeholder-private = To { $name } (private)
relay-join-ask = Would you like to join the common chat? Everything members write there is relayed to everyone.
relay-join-later = OK. Send /join whenever you like.
relay-media-photo = [photo]
relay-media-video = [video]
relay-media-voice = [voice message]
relay-media-audio = [audio]
relay-media-document = [file]
relay-media-sticker = [sticker]
relay-media-animation = [GIF]
relay-media-video_note = [video message]
relay-media-location = [location]
relay-media-venue = [place]
relay-media-poll = [poll]
relay-media-dice = [dice]
relay-line = <b>{ $name }</b> { $time }:
relay-joined = ✅ You're in the common chat. Whatever you send here goes to every member; /leave to step out.
relay-history = <b>{ $count ->
    [1] The last message:
   *[other] The last { $count } messages:
}</b>
relay-left = You left the common chat. /join to come back.
relay-nick-usage = Your name in the chat is <b>{ $name }</b>. To change it: <code>/nick New name</code> (3–32 letters, digits, spaces, . _ -).
relay-nick-set = Done: your name in the chat is now <b>{ $name }</b>.
relay-paused = ⏸ Paused: messages wait for you in /unread. /resume to get them live again.
relay-resumed = ▶️ Live delivery is back on. Anything you missed is in /unread.
relay-unread-common = <b>Common chat — { $count } unread</b>
relay-unread-private = <b>Private chat with { $name } — { $count } unread</b>
relay-unread-none = Nothing unread.
relay-unread-more = { $count } more unread: the button below shows them.
relay-btn-unread-more = 📬 Show more
relay-target-common = the common chat
relay-target-private = { $name } (private)
relay-status =
    <b>Status</b>
    Your time: { $now }, { $zone } (/timezone)
    Members in the common chat: { $members }
    You: { $common ->
        [1] in the common chat
       *[0] not in the common chat
    }{ $paused ->
        [1] , paused
       *[0] {""}
    }
    Writing to: { $target }
    Messages this period: { $used } of { $limit }; the limit resets { $reset }
    Warnings: { $warnings }
    { $has_ban ->
        [1] Banned until { $banned }
       *[0] Not banned
    }
relay-who = <b>Seen recently ({ $count }):</b> press a name to write privately.
relay-who-none = Nobody else has been around in the last few minutes.
relay-now-common = 💬 You're writing to the common chat.
relay-now-private = 🔒 You're now writing privately to <b>{ $name }</b>. Only they see these messages. /common to go back.
relay-dm-usage = Who to write to? <code>/dm Name</code> (see /who), or press “Reply privately” under a message.
relay-block-usage = Reply to their message with /block, or send <code>/block Name</code>.
relay-blocked = { $name } can no longer write to you privately. /unblock { $name } to undo.
relay-unblock-usage = <code>/unblock Name</code>
relay-unblocked = { $name } can write to you privately again.
relay-delete-usage = Reply to your own message with /delete to remove it for everyone.
relay-deleted = 🗑 Deleted for everyone: { $count } { $count ->
    [one] copy
   *[other] copies
}.
relay-schedule-usage = <code>/schedule 18:30 text</code> (your time, see /timezone) or <code>/schedule in 10m text</code> (also <code>in 2 hours</code>, <code>через 10 мин</code>).
relay-scheduled-ok = ⏰ Scheduled for { $when }. /scheduled lists yours.
relay-scheduled-none = You have no scheduled messages.
relay-scheduled-title = <b>Your scheduled messages ({ $count }):</b>
relay-scheduled-cancelled = Cancelled.
relay-scheduled-left = Cancelled. Still scheduled: { $count } (/scheduled).
relay-setlimit-usage = Now: { $limit } { $limit ->
    [one] message
   *[other] messages
} per { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}. Change: <code>/setlimit 30</code> or <code>/setlimit 30 60</code> (per 60 minutes).
relay-setlimit-done = The limit is now { $limit } { $limit ->
    [one] message
   *[other] messages
} per { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
} for everyone.
relay-nobody = Nobody else is in the common chat yet — invite friends with /invite!
relay-peer-unreachable = They can't receive messages right now.
relay-not-member = You're not in the common chat. Send /join to enter it.
relay-already-member = You're already in the common chat.
relay-limit-reached = ⏳ You've sent { $count } of { $limit } { $limit ->
    [one] message
   *[other] messages
} this period. The limit resets { $reset }.
relay-file-too-large = That file is too large: the limit is { $limit_mb } MB.
relay-unsupported = I can't relay this kind of message.
relay-nick-invalid = A name is 3–32 letters, digits, spaces or . _ - and starts with a letter or digit.
relay-nick-taken = The name { $name } is taken; choose another.
relay-member-not-found = There is no member called “{ $name }”. See /who.
relay-dm-self = That's you!
relay-dm-blocked = { $name } doesn't accept private messages from you.
relay-delete-not-yours = You can only delete your own messages: reply with /delete to one of them.
relay-delete-too-old = Telegram only lets me delete messages younger than 48 hours.
relay-message-gone = That message is no longer available.
relay-schedule-invalid = I didn't understand the time. Examples: <code>/schedule 18:30 Hello</code>, <code>/schedule in 10m Hello</code>, <code>/schedule in 2 hours Hello</code>.
relay-scheduled-not-found = That scheduled message is already sent or cancelled.
relay-schedule-too-long = That's too long to schedule: with your name it comes to { $length } { $length ->
    [one] character
   *[other] characters
}, and Telegram takes at most { $limit } (&lt; &gt; and &amp; count as several). Please shorten it a little.
relay-schedule-full = You already have { $limit } scheduled { $limit ->
    [one] message
   *[other] messages
} waiting, which is the most there can be. Cancel one in /scheduled, or wait until one goes out.
relay-scheduled-dropped-common = ⏰ Your scheduled message “{ $excerpt }” was not sent: you're no longer in the common chat. Send /join to come back.
relay-scheduled-dropped-private = ⏰ Your scheduled message “{ $excerpt }” was not sent: { $name } doesn't accept private messages from you any more.
relay-scheduled-dropped-peer = ⏰ Your scheduled message “{ $excerpt }” was not sent: the member it was for is no longer here.
relay-scheduled-dropped-room = ⏰ Your scheduled message “{ $excerpt }” was not sent: you're no longer in the room it was for (or the room was closed).
relay-scheduled-dropped-banned = ⏰ Your scheduled message “{ $excerpt }” was not sent: you are banned until { $until }.
relay-setlimit-invalid = Use a number of messages (1–100000) and optionally minutes (1–10080), e.g. <code>/setlimit 30 60</code>.
cmd-join = Join the common chat
cmd-leave = Leave the common chat
cmd-nick = Set my name in the chat
cmd-dm = Write to a member privately
cmd-common = Back to the common chat
cmd-block = Block someone's private messages
cmd-unblock = Unblock someone
cmd-delete = Delete my message (reply)
cmd-pause = Pause live delivery
cmd-resume = Resume live delivery
cmd-unread = What I missed
cmd-status = Time, chats, my limit and warnings
cmd-who = Who is around
cmd-schedule = Send a message later
cmd-scheduled = My scheduled messages
cmd-setlimit = Messages per period (admins)
