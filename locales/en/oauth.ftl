cmd-link = Link your external account
cmd-unlink = Unlink the external account

oauth-off = Linking an external account isn't set up on this bot.
oauth-link = 🔗 Tap the button to sign in with your account there. It works once, for 10 minutes, in the browser that opens it.
oauth-btn-link = 🔗 Link my account
oauth-linked = 🔗 Your account is linked{ $has_phone ->
    [0] {""}
   *[other] {" "}(phone { $phone })
}. Name: { $name }.
oauth-signed-in = ✅ Signed in with the verified phone { $phone }. Your name in the chat is { $name }.
oauth-failed = The account could not be linked: the provider did not accept it or is not reachable. Nothing changed — try /link again.
oauth-cancelled = Linking was cancelled; nothing changed.
oauth-state-invalid = This sign-in link was already used or is out of date. Send /link for a new one.
oauth-not-linked = No external account is linked.
oauth-unlinked = The external account is unlinked; its tokens are revoked and deleted.
oauth-refresh-refused = 🔗 Your external account was unlinked: the provider no longer accepts the bot's access. /link to link it again.
oauth-page-linked = Linked. You can go back to Telegram.
oauth-page-failed = The account could not be linked. Go back to Telegram for details.
oauth-page-state-invalid = This link was already used, is out of date, or was opened in another browser. Nothing changed. Send /link in Telegram for a new one.
oauth-page-other-browser = This page was opened in a different browser from the one that started linking, so nothing changed. Linking your own account? Send /link in Telegram and finish in the browser the button opens. If someone sent you this link, just close this page.
oauth-page-linked-confirm = Linked. Go back to Telegram to confirm signing in with your phone.
oauth-confirm-signin = 🔐 Your account there has the verified phone { $phone }. Sign in to the chat with it? Tap Yes only if you started this linking yourself. The buttons work for { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}.
oauth-confirm-takeover = 🔐 The verified phone { $phone } already has an account in the chat. Sign in to that account here? It moves to this Telegram account, and the Telegram account that has it now loses it. Tap Yes only if the phone is yours and you started this linking yourself. The buttons work for { $minutes } { $minutes ->
    [one] minute
   *[other] minutes
}.
oauth-btn-confirm-yes = ✅ Yes, sign me in
oauth-btn-confirm-no = No
oauth-confirm-declined = OK, the phone was not used; your account stays as it was.
oauth-confirm-invalid = This button has expired or was already used. Nothing changed.
oauth-page-finish = Almost done. Open Telegram with the link below to see the linked account there.
oauth-page-finish-button = Finish in Telegram
oauth-finish-invalid = This link is not for this Telegram account, or is out of date or used. Nothing was linked here. To link your own account, send /link and finish in the browser its button opens.
