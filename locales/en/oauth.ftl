cmd-link = Link your external account
cmd-unlink = Unlink the external account

oauth-off = Linking an external account isn't set up on this bot.
oauth-link = 🔗 Tap the button to sign in with your account there. The link works once and for one day.
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
oauth-page-state-invalid = This link was already used or is out of date. Send /link in Telegram for a new one.
