cmd-rooms = My rooms: switch, manage, leave
cmd-newroom = Create a room: /newroom title

room-new-usage = How to use: <code>/newroom Book club</code> — a room with that title; you invite people with its link and approve each request.
room-title-invalid = A room title is 1 to { $limit } { $limit ->
    [one] character
   *[other] characters
} long.
room-created =
    🏠 Room <b>{ $title }</b> is ready. Invite people with this link — you approve each request:
    { $link }
room-sign-in-first = This is a room invitation. Sign in first: share your phone number with the button below, and your request to join goes to the room right after.
room-link-invalid = This room link doesn't work: it was replaced by a new one, or it never existed.
room-closed = The room <b>{ $title }</b> is closed.
room-already-member = You're already in the room <b>{ $title }</b>. /rooms to switch to it.
room-already-requested = You already asked to join the room <b>{ $title }</b>; the owner hasn't answered yet.
room-kicked-out = The owner removed you from the room <b>{ $title }</b>.
room-not-yours = Only the room's owner can do that.
room-not-found = That room no longer exists.
room-request-handled = This request was already answered; nothing changed.
room-not-member = You're not in that room.
room-owner-stays = The owner can't leave or be removed; close the room instead.
room-requested = ✉️ Asked to join the room <b>{ $title }</b>. You'll get a message when the owner answers.
room-request = 🚪 <b>{ $name }</b> asks to join your room <b>{ $title }</b>.
room-btn-approve = ✅ Approve
room-btn-decline = ✖️ Decline
room-approved = ✅ You're in the room <b>{ $title }</b>. Press the button to write there; /rooms switches any time.
room-declined = The owner of <b>{ $title }</b> declined your request.
room-approved-owner = ✅ { $name } joined <b>{ $title }</b>.
room-declined-owner = ✖️ You declined { $name }'s request to join <b>{ $title }</b>.
room-list-empty = You're in no rooms yet. /newroom creates one; a room's link lets you ask to join it.
room-list = 🏠 <b>Your rooms: { $count }</b>. Tap one to write there.
room-btn-switch = { $title } ({ $count })
room-btn-manage = ⚙️ Manage
room-btn-leave = 🚪 Leave
room-left = You left the room “{ $title }”.
room-manage =
    ⚙️ <b>{ $title }</b> — { $count } { $count ->
        [one] member
       *[other] members
    }
    Invite link: { $link }
room-btn-members = 👥 Members
room-btn-rotate = 🔄 New link
room-btn-close = 🔒 Close the room
room-members = 👥 <b>{ $title }</b>: { $count } besides you. Tap a name to remove them.
room-members-none = Nobody else is in the room <b>{ $title }</b> yet.
room-btn-kick = ✖️ { $name }
room-kicked-owner = { $name } was removed from the room “{ $title }”.
room-kicked = The owner removed you from the room <b>{ $title }</b>.
room-rotated =
    🔄 New link for <b>{ $title }</b> — the old one no longer works:
    { $link }
room-close-confirm = Close <b>{ $title }</b> for everyone? Members are told; this can't be undone.
room-btn-close-yes = 🔒 Yes, close it
room-closed-owner = 🔒 The room <b>{ $title }</b> is closed.
room-closed-notice = 🔒 The room <b>{ $title }</b> was closed by its owner. You're back in the common chat.
relay-placeholder-room = To the room { $title }
relay-target-room = the room { $title }
relay-now-room = 🏠 You're now writing in the room <b>{ $title }</b>. /common to go back, /rooms to switch.
relay-unread-room = <b>Room { $title } — { $count } unread</b>
room-nobody = Nobody else is in this room yet — share its link from /rooms → ⚙️ Manage.
room-btn-write = ✍️ Write in { $title }
