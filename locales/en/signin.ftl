signin-share-button = 📱 Share my phone number
signin-required = Please sign in first: press “📱 Share my phone number” below. (No button? Send /phone +7XXXXXXXXXX.)
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
signin-phone-usage = Send your number after the command, e.g. <code>/phone +79161234567</code>, and I'll text you a 4-digit code.
signin-code-sent = I've sent a 4-digit code to { $phone }. Send it here within { $minutes } min.
signin-code-cooldown = A code was sent a moment ago. You can ask for a new one in { $seconds } s.
signin-code-none = There is no code waiting. Ask for one with /phone +7XXXXXXXXXX.
signin-code-expired = That code has expired. Ask for a new one with /phone.
signin-code-wrong = Wrong code. Attempts left: { $left }.
signin-code-attempts = Too many wrong attempts; that code no longer works. Ask for a new one with /phone.
signin-done-first = ✅ You're signed in with { $phone }. Your name in the chat is <b>{ $name }</b>.
signin-done = ✅ Signed in with { $phone } as <b>{ $name }</b>.
signin-your-code = Your invite code is <code>{ $code }</code> — share it with /invite.
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
