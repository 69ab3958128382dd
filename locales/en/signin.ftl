signin-share-button = 📱 Share my phone number
signin-required = Please sign in first: press “📱 Share my phone number” below. (No button? Send /help.)
signin-required-short = Please sign in first: send /start.
start-welcome =
    👋 <b>Welcome to the community chat!</b>
    To sign in, share your phone number with the button below — it stays private.{ $has_code ->
        [1] {""}
            Your invite code is saved and will be applied once you sign in.
       *[0] {""}
    }
start-welcome-back = Welcome back, { $name }! Send /help to see what you can do.
signin-foreign-contact = That is someone else's contact. Please share <b>your own</b> number with the button below.
signin-invalid-phone = That doesn't look like a valid phone number. Example: /phone +79161234567
signin-already = You are already signed in with { $phone }.
signin-phone-usage = Send your number after the command, e.g. <code>/phone +79161234567</code>, and I'll text you a 6-digit code.
signin-code-sent = I've sent a 6-digit code to { $phone }. Send it here within { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}.
signin-code-cooldown = A code was sent a moment ago. You can ask for a new one in { $seconds } { $seconds ->
    [one] second
   *[other] seconds
}.
signin-code-none = There is no code waiting. Ask for one with /phone +7XXXXXXXXXX.
signin-code-expired = That code has expired. Ask for a new one with /phone.
signin-code-wrong = Wrong code. Attempts left: { $left }.
signin-code-attempts = Too many wrong attempts; that code no longer works. Ask for a new one with /phone.
signin-done = ✅ Signed in with { $phone } as <b>{ $name }</b>.
signin-taken-over = Your phone number was just used to sign in from another Telegram account, so this account is no longer signed in. If that wasn't you, sign in again here.
signin-pending-code-failed = The invite code from your link could not be applied: { $reason }
me-card =
    <b>{ $name }</b>
    Phone: { $phone }
    Invite code: <code>{ $code }</code>
    Invited by: { $inviter }
    You invited: { $invited }
forget-confirm = Delete your personal data? Your phone and names are removed and your invite code stops working. You will need to sign in again to use the bot.
forget-yes = Yes, delete
forget-no = Cancel
forget-done = Your personal data is deleted. Send /start whenever you want to come back.
forget-cancelled = Nothing was deleted.
signin-phone-off = Sign-in by SMS code isn't available here. Please press “📱 Share my phone number” below: it signs you in right away.
signin-code-daily-limit = That's the most sign-in codes I can handle for today, to keep accounts safe. You can try again in { $hours } { $hours ->
    [one] hour
   *[other] hours
} { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}, or sign in right away with the “📱 Share my phone number” button.
signin-takeover-asked = The number { $phone } is already signed in on another Telegram account, so I've asked that account to allow this sign-in. Nothing changes until it answers (it has { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}); I'll tell you here. If you no longer have that account, share your contact with the button instead.
signin-takeover-ask =
    🔐 Someone is signing in with your phone { $phone } on another Telegram account.
    If it's you, allow it: this account will then be signed out and the other one takes your place. If not, deny it and nothing changes. (This request ends in { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }.)
signin-takeover-btn-allow = ✅ Allow, it's me
signin-takeover-btn-deny = ⛔ Deny
signin-takeover-allowed-owner = Allowed: your account now lives on your other Telegram account, and this one is signed out.
signin-takeover-denied-owner = Denied: nothing changed, you are still signed in here.
signin-takeover-denied = The account with { $phone } denied this sign-in, so nothing changed.
signin-takeover-stale = This request is no longer active. Nothing changed.
signin-takeover-expired = This request has expired. Nothing changed.
signin-welcome =
    ✅ You're signed in with { $phone }.
    Your name in the chat is <b>{ $name }</b>; change it any time with <code>/nick New name</code>.
    Your invite code is <code>{ $code }</code>: /invite gives you a link and a QR code to share.
