unknown-command = I don't know that command. Send /help to see what I can do.
nothing-to-do = I'm not sure what to do with that. Send /help to see what I can do.
button-stale = This button is no longer active.
error-apology = Sorry, something went wrong on my side. Please try again in a moment.
error-generic = That didn't work. Please try again.
error-unknown-command = { unknown-command }
user-not-found = No user matches “{ $ref }”. Use a Telegram id, @username, phone or invite code.
admin-user-usage = Usage: /{ $command } &lt;telegram id | @username | phone | invite code&gt;
help-text-signed-out =
    <b>Welcome!</b> Sign in first: press “Share my phone number” below.
    If your app cannot share a contact, send /phone +7XXXXXXXXXX and then the 4-digit code.
help-text =
    <b>What I can do</b>
    /me — your profile
    /invite — your invite code, link and QR
    /redeem CODE — use a friend's invite code
    /referrals — who joined with your code
    /forget_me — delete your personal data
flood-slow-down = 🐢 Slow down a little: too many messages at once. I'll listen again in a few seconds.
